"""The embedded default backend: one SQLite file in WAL mode.

Each thread keeps its own connection.  A write session takes the write lock
up front (``BEGIN IMMEDIATE``), so the read-then-write of a request
(``If-Match``, the next ``last_modified``) cannot interleave with another
writer; reads run in a deferred transaction on a consistent snapshot.

Writers of one process first queue on a ``threading.Lock``: SQLite's own
busy handler polls with sleeps of up to 100 ms, so four waitress threads
contending for ``BEGIN IMMEDIATE`` turned a 1 ms write into a 100 ms p99.
The lock hands over at once; the busy timeout still covers other processes.
"""

from __future__ import annotations

import builtins
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from notifier.settings import SettingsError
from notifier.storage import (
    EVERYTHING,
    Filter,
    ObjectExists,
    Permissions,
    Selection,
    StorageError,
)
from notifier.storage.sql import Conditions, stored_data, written_object
from notifier.storage.sqlite_checkpoint import BACKSTOP_PAGES, Checkpointer
from notifier.storage.sqlite_outbox import SQLiteOutbox
from notifier.storage.sqlite_schema import (
    OBJECT_JSON,
    SCHEMA,
    SCHEMA_VERSION,
    UPGRADES,
    statements,
)

log = logging.getLogger(__name__)


def _json_path(field: str) -> str:
    return "$" + "".join(f'."{part}"' for part in field.split("."))


CONDITIONS = Conditions("?", lambda field: f"json_extract(data, '{_json_path(field)}')")


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def below(uri: str) -> tuple[str, str]:
    """The half-open key range of every URI strictly below ``uri``."""
    return uri + "/", uri + "0"  # "0" sorts right after "/"


class WriterLock:
    """The process's writers in line: waits at most ``timeout`` seconds, like SQLite would."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._lock = threading.Lock()

    def acquire(self) -> None:
        if not self._lock.acquire(timeout=self.timeout):
            raise StorageError(f"sqlite: database is locked (waited {self.timeout}s for a writer)")

    def release(self) -> None:
        self._lock.release()


def _to_object(row: sqlite3.Row) -> dict[str, Any]:
    if row["deleted"]:
        return {"id": row["id"], "last_modified": row["last_modified"], "deleted": True}
    obj: dict[str, Any] = json.loads(row["data"])
    obj["id"] = row["id"]
    obj["last_modified"] = row["last_modified"]
    return obj


def _to_objects(rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    """The objects of many rows, their JSON parsed in one ``json.loads``.

    A page of 100 records spent more time in 100 calls of ``json.loads`` (and
    name lookups on sqlite3.Row) than in SQLite; one parse of the joined
    texts costs a third of that.  Columns by position: id, last_modified,
    deleted, data (the order of SCHEMA).
    """
    texts = ",".join("{}" if row[4] else row[5] for row in rows)
    parsed: list[dict[str, Any]] = json.loads(f"[{texts}]")
    objects = []
    for row, obj in zip(rows, parsed, strict=True):
        if row[4]:
            objects.append({"id": row[2], "last_modified": row[3], "deleted": True})
            continue
        obj["id"] = row[2]
        obj["last_modified"] = row[3]
        objects.append(obj)
    return objects


class SQLiteSession(SQLiteOutbox):
    """One transaction on this thread's connection.

    A write session holds ``writer`` (the process's writer lock) from BEGIN
    until it commits or rolls back.
    """

    def __init__(
        self, connection: sqlite3.Connection, write: bool, writer: WriterLock | None = None
    ) -> None:
        self.db = connection
        self._writer = writer if write else None
        if self._writer is not None:
            self._writer.acquire()
        try:
            self._execute("BEGIN IMMEDIATE" if write else "BEGIN")
        except BaseException:
            self._release()
            raise

    def _release(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.release()

    def commit(self) -> None:
        try:
            if self.db.in_transaction:
                self._execute("COMMIT")
        finally:
            if not self.db.in_transaction:
                self._release()

    def rollback(self) -> None:
        try:
            if self.db.in_transaction:
                self._execute("ROLLBACK")
        finally:
            self._release()

    def savepoint(self, name: str) -> None:
        self._execute(f'SAVEPOINT "{name}"')

    def rollback_to(self, name: str) -> None:
        self._execute(f'ROLLBACK TO "{name}"')
        self._execute(f'RELEASE "{name}"')

    def release(self, name: str) -> None:
        self._execute(f'RELEASE "{name}"')

    def _tuples(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        """Rows as plain tuples: for a page of objects, building sqlite3.Row objects cost more."""
        cursor = self.db.cursor()
        cursor.row_factory = None
        try:
            rows: list[tuple[Any, ...]] = cursor.execute(sql, params).fetchall()
        except sqlite3.OperationalError as error:
            raise StorageError(f"sqlite: {error}") from error
        return rows

    def _row(self, resource: str, parent_id: str, object_id: str) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self._execute(
            "SELECT * FROM objects WHERE parent_id = ? AND resource = ? AND id = ?",
            (parent_id, resource, object_id),
        ).fetchone()
        return row

    def get(
        self, resource: str, parent_id: str, object_id: str, shared: bool = False
    ) -> dict[str, Any] | None:
        row = self._row(resource, parent_id, object_id)  # the write lock covers the file
        return None if row is None or row["deleted"] else _to_object(row)

    def _store(
        self,
        resource: str,
        parent_id: str,
        obj: dict[str, Any],
        deleted: bool = False,
        over_tombstone_only: bool = False,
    ) -> dict[str, Any]:
        """Write the object with the list's next stamp: now, or one more than its last.

        The insert picks the stamp itself and returns it, then the list's
        timestamp follows.  ``over_tombstone_only``: a live object with this
        id makes the insert a no-op that returns no row, so ObjectExists
        leaves the list's timestamp as it was.
        """
        data = stored_data(obj)
        conflict = (
            " ON CONFLICT (parent_id, resource, id) DO UPDATE SET"
            " last_modified = excluded.last_modified, deleted = excluded.deleted,"
            " data = excluded.data WHERE objects.deleted"
            if over_tombstone_only
            else ""
        )
        row = self._execute(
            f"INSERT {'' if over_tombstone_only else 'OR REPLACE '}INTO objects"
            " (parent_id, resource, id, last_modified, deleted, data)"
            " VALUES (?1, ?2, ?3, coalesce((SELECT max(?4, last_modified + 1) FROM timestamps"
            f" WHERE parent_id = ?1 AND resource = ?2), ?4), ?5, ?6){conflict}"
            " RETURNING last_modified",
            (
                parent_id,
                resource,
                obj["id"],
                now_ms(),
                int(deleted),
                "{}" if deleted else json.dumps(data, separators=(",", ":")),
            ),
        ).fetchone()
        if row is None:
            raise ObjectExists(self.get(resource, parent_id, obj["id"]) or {"id": obj["id"]})
        stamp = int(row[0])
        self._execute(
            "INSERT INTO timestamps (parent_id, resource, last_modified) VALUES (?, ?, ?)"
            " ON CONFLICT (parent_id, resource)"
            " DO UPDATE SET last_modified = excluded.last_modified",
            (parent_id, resource, stamp),
        )
        return written_object(obj["id"], stamp, data, deleted)

    def create(self, resource: str, parent_id: str, obj: dict[str, Any]) -> dict[str, Any]:
        return self._store(resource, parent_id, obj, over_tombstone_only=True)

    def update(self, resource: str, parent_id: str, obj: dict[str, Any]) -> dict[str, Any]:
        return self._store(resource, parent_id, obj)

    def delete(self, resource: str, parent_id: str, object_id: str) -> dict[str, Any]:
        return self._store(resource, parent_id, {"id": object_id}, deleted=True)

    def purge_children(self, parent_id: str) -> list[tuple[str, str, dict[str, Any]]]:
        low, high = below(parent_id)
        where = "(parent_id = ? OR (parent_id >= ? AND parent_id < ?))"
        params = (parent_id, low, high)
        rows = self._execute(
            f"SELECT * FROM objects WHERE {where} AND deleted = 0"
            " ORDER BY length(parent_id), parent_id, last_modified",
            params,
        ).fetchall()
        self._execute(f"DELETE FROM objects WHERE {where}", params)
        self._execute(f"DELETE FROM timestamps WHERE {where}", params)
        return [(row["resource"], row["parent_id"], _to_object(row)) for row in rows]

    def list(
        self, resource: str, parent_id: str, selection: Selection = EVERYTHING
    ) -> list[dict[str, Any]]:
        sql, params = CONDITIONS.select("*", resource, parent_id, selection)
        return _to_objects(self._tuples(sql, params))

    def list_json(
        self, resource: str, parent_id: str, selection: Selection = EVERYTHING
    ) -> builtins.list[str]:
        sql, params = CONDITIONS.select(OBJECT_JSON, resource, parent_id, selection)
        return [row[0] for row in self._tuples(sql, params)]

    def count(self, resource: str, parent_id: str, filters: Sequence[Filter] = ()) -> int:
        sql, params = CONDITIONS.count(resource, parent_id, filters)
        return int(self._execute(sql, params).fetchone()[0])

    def timestamp(self, resource: str, parent_id: str) -> int:
        row = self._execute(
            "SELECT last_modified FROM timestamps WHERE parent_id = ? AND resource = ?",
            (parent_id, resource),
        ).fetchone()
        return int(row[0]) if row else 0

    def get_permissions(self, uri: str) -> Permissions:
        permissions: Permissions = {}
        for row in self._execute(
            "SELECT permission, principal FROM permissions WHERE object_uri = ?", (uri,)
        ):
            permissions.setdefault(row["permission"], set()).add(row["principal"])
        return permissions

    def set_permissions(
        self, uri: str, permissions: Mapping[str, set[str]], *, new_object: bool = False
    ) -> None:
        if not new_object:
            self._execute("DELETE FROM permissions WHERE object_uri = ?", (uri,))
        rows = [(uri, perm, who) for perm, principals in permissions.items() for who in principals]
        self._execute_many(
            "INSERT INTO permissions (object_uri, permission, principal) VALUES (?, ?, ?)", rows
        )

    def delete_permissions(self, uri: str) -> None:
        low, high = below(uri)
        self._execute(
            "DELETE FROM permissions WHERE object_uri = ? OR (object_uri >= ? AND object_uri < ?)",
            (uri, low, high),
        )

    def accessible_ids(
        self,
        parent_uri: str,
        resource_path: str,
        principals: Sequence[str],
        permissions: Sequence[str],
    ) -> set[str]:
        prefix = f"{parent_uri}/{resource_path}/"
        low, high = prefix, prefix[:-1] + "0"
        marks = ", ".join("?" * len(principals))
        perms = ", ".join("?" * len(permissions))
        rows = self._execute(
            f"SELECT DISTINCT object_uri FROM permissions WHERE principal IN ({marks})"
            f" AND permission IN ({perms}) AND object_uri >= ? AND object_uri < ?",
            (*principals, *permissions, low, high),
        )
        ids = (row[0][len(prefix) :] for row in rows)
        return {object_id for object_id in ids if "/" not in object_id}

    def granted(
        self, principals: Sequence[str], permissions: Sequence[str] | None = None
    ) -> Permissions:
        marks = ", ".join("?" * len(principals))
        sql = f"SELECT object_uri, permission FROM permissions WHERE principal IN ({marks})"
        params: list[str] = list(principals)
        if permissions is not None:
            sql += f" AND permission IN ({', '.join('?' * len(permissions))})"
            params += list(permissions)
        found: Permissions = {}
        for uri, permission in self._execute(sql, params):
            found.setdefault(uri, set()).add(permission)
        return found


class SQLiteStorage:
    """Sessions on one SQLite file, a connection per thread."""

    def __init__(self, path: str, busy_timeout: float = 5.0) -> None:
        self.path = path
        self.busy_timeout = busy_timeout
        self._local = threading.local()
        self._writer = WriterLock(busy_timeout)
        self._checkpointer = Checkpointer(path)
        self._migrate(self._connection())

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(
                self.path,
                isolation_level=None,
                timeout=self.busy_timeout,
                check_same_thread=True,
            )
            connection.row_factory = sqlite3.Row
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = NORMAL")
            connection.execute(f"PRAGMA wal_autocheckpoint = {BACKSTOP_PAGES}")
            self._local.connection = connection
        return connection

    def _migrate(self, connection: sqlite3.Connection) -> None:
        """Create the schema in a new file, or upgrade an older one, in one transaction.

        Under the write lock the version is read again: another process
        opening the same file may have done the work meanwhile.
        """
        if _user_version(connection) == SCHEMA_VERSION:
            return
        connection.execute("BEGIN IMMEDIATE")
        try:
            version = _user_version(connection)
            steps = self._steps_from(version)
            for script in steps:
                for statement in statements(script):
                    connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        if steps and version == 0:
            log.info("created the notifier schema (version %d) in %s", SCHEMA_VERSION, self.path)
        elif steps:
            log.info(
                "upgraded the notifier schema in %s from version %d to %d",
                self.path,
                version,
                SCHEMA_VERSION,
            )

    def _steps_from(self, version: int) -> list[str]:
        if version == 0:
            return [SCHEMA]
        if version > SCHEMA_VERSION or any(
            v not in UPGRADES for v in range(version, SCHEMA_VERSION)
        ):
            raise StorageError(
                f"{self.path}: schema version {version} is not one this notifier knows"
                f" (it writes version {SCHEMA_VERSION} and upgrades older ones):"
                " was the file written by a newer notifier?"
            )
        return [UPGRADES[v] for v in range(version, SCHEMA_VERSION)]

    def session(self, write: bool) -> SQLiteSession:
        if write:
            self._checkpointer.start()
        return SQLiteSession(self._connection(), write, self._writer)

    def healthy(self) -> bool:
        try:
            self._connection().execute("SELECT 1").fetchone()
        except sqlite3.Error:
            return False
        return True

    def wait_for_outbox(self, timeout: float) -> bool:
        """Sleep: other processes' commits cannot be heard, so the relay polls."""
        time.sleep(timeout)
        return False

    def close(self) -> None:
        self._checkpointer.stop()
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None


#: What SQLite says when the path is no SQLite file it can open: the setting is wrong.
_NOT_A_FILE_IT_CAN_USE = {sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_NOTADB}


def load_from_settings(settings: Mapping[str, Any]) -> SQLiteStorage:
    """``notifier.storage_url`` is the file's path (made absolute by ``main``).

    A path SQLite cannot open as a database (a folder, an empty value, which
    names the INI's folder, a file of another kind, a folder this process
    cannot write) stops the start with a SettingsError naming the key.
    """
    key = "notifier.storage_url"
    path = str(settings[key])
    accepted = "accepted: the path of a SQLite file, new or existing, in a folder it can write"
    folder = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as error:
        problem = f"cannot make the folder {folder} ({error.strerror}); {accepted}"
        raise SettingsError(key, problem, path) from error
    try:
        return SQLiteStorage(path)
    except sqlite3.DatabaseError as error:
        if getattr(error, "sqlite_errorcode", None) not in _NOT_A_FILE_IT_CAN_USE:
            raise
        raise SettingsError(key, f"sqlite: {error}; {accepted}", path) from error


def _user_version(connection: sqlite3.Connection) -> int:
    return int(connection.execute("PRAGMA user_version").fetchone()[0])
