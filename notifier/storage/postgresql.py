"""The shared backend: PostgreSQL through a psycopg connection pool.

Several app servers (and, later, relays) share one database, so nothing is
serialised by a global lock as in SQLite.  Instead:

- ``last_modified`` comes from an upsert of the list's ``timestamps`` row,
  ``GREATEST(now, previous + 1)``, which row-locks it until the transaction
  ends: writers to one list take turns, their timestamps strictly increase
  and commit in that order, so a reader's ``_since`` never skips a write.
- In a write session ``get`` reads with ``FOR UPDATE``, so a request's
  read-then-write (``If-Match``, "does the bucket exist") cannot interleave
  with another writer of that object; views read parents before children,
  which keeps the lock order the same everywhere.
- Read sessions are REPEATABLE READ: list, count and timestamp of a request
  see one snapshot, as SQLite's deferred transaction does.

A session takes its connection from the pool at its first statement and
gives it back at commit or rollback, so a request that never reads (server
info, heartbeat) holds none; waiting for a free connection is bounded by the
pool timeout and then fails as a StorageError (503), never a deadlock.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool, PoolTimeout

from notifier.settings import Section, SettingsError
from notifier.storage import Filter, ObjectExists, Permissions, Sort, StorageError, pgschema
from notifier.storage.jsonb import JSONBConditions

log = logging.getLogger(__name__)

CONDITIONS = JSONBConditions()
URL_SCHEMES = ("postgresql://", "postgres://")
POOL_TIMEOUT = 10.0  # seconds a request waits for a free connection

_NOW_MS = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint"
_OBJECT = "id, last_modified, deleted, data"
_BELOW = "(parent_id = %s OR (parent_id >= %s AND parent_id < %s))"
_DRIVER_ERRORS = (psycopg.OperationalError, psycopg.InterfaceError)


def below(uri: str) -> tuple[str, str]:
    """The half-open key range of every URI strictly below ``uri`` (bytewise)."""
    return uri + "/", uri + "0"  # "0" sorts right after "/"


def _to_object(row: Sequence[Any]) -> dict[str, Any]:
    object_id, last_modified, deleted, data = row[:4]
    if deleted:
        return {"id": object_id, "last_modified": last_modified, "deleted": True}
    return {**data, "id": object_id, "last_modified": last_modified}


def describe(conninfo: str) -> str:
    """``host:port/dbname`` of a connection string, without its password."""
    try:
        parts = conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError:
        return "postgresql"
    host = parts.get("host") or "localhost"
    return f"postgresql {host}:{parts.get('port') or 5432}/{parts.get('dbname') or ''}"


class PostgreSQLSession:
    """One transaction on one pooled connection, taken at the first statement."""

    def __init__(self, storage: PostgreSQLStorage, write: bool) -> None:
        self.storage = storage
        self.write = write
        self._connection: psycopg.Connection[Any] | None = None

    def _begin(self) -> psycopg.Connection[Any]:
        if self._connection is None:
            connection = self.storage.acquire()
            begin = "BEGIN" if self.write else "BEGIN ISOLATION LEVEL REPEATABLE READ"
            try:
                connection.execute(begin)
            except _DRIVER_ERRORS as error:
                self.storage.release(connection)
                raise StorageError(f"{self.storage.name}: {error}") from error
            self._connection = connection
        return self._connection

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> psycopg.Cursor[Any]:
        connection = self._begin()
        try:
            return connection.execute(sql, params)
        except _DRIVER_ERRORS as error:
            raise StorageError(f"{self.storage.name}: {error}") from error

    def _end(self, statement: str) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            connection.execute(statement)
        finally:
            self.storage.release(connection)

    def commit(self) -> None:
        try:
            self._end("COMMIT")
        except _DRIVER_ERRORS as error:
            raise StorageError(f"{self.storage.name}: commit failed: {error}") from error

    def rollback(self) -> None:
        """Roll back; a connection already broken has lost the transaction anyway."""
        try:
            self._end("ROLLBACK")
        except _DRIVER_ERRORS as error:
            log.warning("%s: rollback failed: %s", self.storage.name, error)

    def get(self, resource: str, parent_id: str, object_id: str) -> dict[str, Any] | None:
        sql = f"SELECT {_OBJECT} FROM objects WHERE parent_id = %s AND resource = %s AND id = %s"
        row = self._execute(
            sql + (" FOR UPDATE" if self.write else ""), (parent_id, resource, object_id)
        ).fetchone()
        return None if row is None or row[2] else _to_object(row)

    def _next_timestamp(self, resource: str, parent_id: str) -> int:
        row = self._execute(
            "INSERT INTO timestamps (parent_id, resource, last_modified)"
            f" VALUES (%s, %s, {_NOW_MS}) ON CONFLICT (parent_id, resource) DO UPDATE"
            f" SET last_modified = GREATEST({_NOW_MS}, timestamps.last_modified + 1)"
            " RETURNING last_modified",
            (parent_id, resource),
        ).fetchone()
        if row is None:  # an upsert that updates returns its row; this cannot happen
            raise StorageError(f"{self.storage.name}: no timestamp for {parent_id}/{resource}")
        return int(row[0])

    def _store(
        self,
        resource: str,
        parent_id: str,
        obj: dict[str, Any],
        deleted: bool = False,
        over_tombstone_only: bool = False,
    ) -> dict[str, Any]:
        stamp = self._next_timestamp(resource, parent_id)
        data = {k: v for k, v in obj.items() if k not in ("id", "last_modified", "deleted")}
        replace = " WHERE objects.deleted = 1" if over_tombstone_only else ""
        row = self._execute(
            "INSERT INTO objects (parent_id, resource, id, last_modified, deleted, data)"
            " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (parent_id, resource, id) DO UPDATE"
            " SET last_modified = EXCLUDED.last_modified, deleted = EXCLUDED.deleted,"
            f" data = EXCLUDED.data{replace} RETURNING id",
            (parent_id, resource, obj["id"], stamp, int(deleted), Jsonb({} if deleted else data)),
        ).fetchone()
        if row is None:  # a concurrent create committed first
            raise ObjectExists(self.get(resource, parent_id, obj["id"]) or {"id": obj["id"]})
        if deleted:
            return {"id": obj["id"], "last_modified": stamp, "deleted": True}
        return {**data, "id": obj["id"], "last_modified": stamp}

    def create(self, resource: str, parent_id: str, obj: dict[str, Any]) -> dict[str, Any]:
        existing = self.get(resource, parent_id, obj["id"])
        if existing is not None:
            raise ObjectExists(existing)
        return self._store(resource, parent_id, obj, over_tombstone_only=True)

    def update(self, resource: str, parent_id: str, obj: dict[str, Any]) -> dict[str, Any]:
        return self._store(resource, parent_id, obj)

    def delete(self, resource: str, parent_id: str, object_id: str) -> dict[str, Any]:
        return self._store(resource, parent_id, {"id": object_id}, deleted=True)

    def purge_children(self, parent_id: str) -> list[tuple[str, str, dict[str, Any]]]:
        params = (parent_id, *below(parent_id))
        rows = self._execute(
            f"WITH gone AS (DELETE FROM objects WHERE {_BELOW}"
            f" RETURNING resource, parent_id, {_OBJECT})"
            f" SELECT resource, parent_id, {_OBJECT} FROM gone WHERE deleted = 0"
            " ORDER BY length(parent_id), parent_id, last_modified",
            params,
        ).fetchall()
        self._execute(f"DELETE FROM timestamps WHERE {_BELOW}", params)
        return [(row[0], row[1], _to_object(row[2:])) for row in rows]

    def list(
        self,
        resource: str,
        parent_id: str,
        filters: Sequence[Filter] = (),
        sorting: Sequence[Sort] = (),
        pagination: Sequence[Sequence[Filter]] = (),
        limit: int | None = None,
        include_deleted: bool = False,
    ) -> list[dict[str, Any]]:
        params: list[Any] = [parent_id, resource]
        where = CONDITIONS.where(filters, pagination, include_deleted, params)
        sql = (
            f"SELECT {_OBJECT} FROM objects WHERE parent_id = %s AND resource = %s"
            f" AND {where} ORDER BY {CONDITIONS.order_by(sorting)}"
        )
        if limit is not None:
            sql += " LIMIT %s"
            params.append(limit)
        return [_to_object(row) for row in self._execute(sql, params).fetchall()]

    def count(self, resource: str, parent_id: str, filters: Sequence[Filter] = ()) -> int:
        params: list[Any] = [parent_id, resource]
        where = CONDITIONS.where(filters, (), False, params)
        sql = f"SELECT count(*) FROM objects WHERE parent_id = %s AND resource = %s AND {where}"
        row = self._execute(sql, params).fetchone()
        return int(row[0]) if row else 0

    def timestamp(self, resource: str, parent_id: str) -> int:
        row = self._execute(
            "SELECT last_modified FROM timestamps WHERE parent_id = %s AND resource = %s",
            (parent_id, resource),
        ).fetchone()
        return int(row[0]) if row else 0

    def get_permissions(self, uri: str) -> Permissions:
        permissions: Permissions = {}
        rows = self._execute(
            "SELECT permission, principal FROM permissions WHERE object_uri = %s", (uri,)
        ).fetchall()
        for permission, principal in rows:
            permissions.setdefault(permission, set()).add(principal)
        return permissions

    def set_permissions(self, uri: str, permissions: Mapping[str, set[str]]) -> None:
        self._execute("DELETE FROM permissions WHERE object_uri = %s", (uri,))
        rows = [(uri, perm, who) for perm, principals in permissions.items() for who in principals]
        if rows:
            self._execute(
                "INSERT INTO permissions (object_uri, permission, principal)"
                " SELECT %s, * FROM unnest(%s::text[], %s::text[])",
                (uri, [row[1] for row in rows], [row[2] for row in rows]),
            )

    def delete_permissions(self, uri: str) -> None:
        self._execute(
            "DELETE FROM permissions WHERE object_uri = %s"
            " OR (object_uri >= %s AND object_uri < %s)",
            (uri, *below(uri)),
        )

    def accessible_ids(
        self,
        parent_uri: str,
        resource_path: str,
        principals: Sequence[str],
        permissions: Sequence[str],
    ) -> set[str]:
        prefix = f"{parent_uri}/{resource_path}/"
        rows = self._execute(
            "SELECT DISTINCT object_uri FROM permissions"
            " WHERE principal = ANY(%s::text[]) AND permission = ANY(%s::text[])"
            " AND object_uri >= %s AND object_uri < %s",
            (list(principals), list(permissions), prefix, prefix[:-1] + "0"),
        ).fetchall()
        ids = (row[0][len(prefix) :] for row in rows)
        return {object_id for object_id in ids if "/" not in object_id}


class PostgreSQLStorage:
    """Sessions on a pool of connections to one PostgreSQL database.

    Refuses to start (StorageError) when the server is unreachable or the
    schema is not the one this code knows; the message names the command.
    """

    def __init__(self, conninfo: str, pool_size: int = 10, timeout: float = POOL_TIMEOUT) -> None:
        self.name = describe(conninfo)
        self.pool_size = pool_size
        self.timeout = timeout
        with connect(conninfo, timeout) as connection:
            pgschema.require_current(connection, self.name)
        self.pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            conninfo,
            min_size=1,
            max_size=pool_size,
            timeout=timeout,
            kwargs={"autocommit": True},
            check=ConnectionPool.check_connection,
            name="notifier",
            open=False,
        )
        self.pool.open()

    def acquire(self) -> psycopg.Connection[Any]:
        try:
            return self.pool.getconn()
        except PoolTimeout as error:
            raise StorageError(
                f"{self.name}: no free connection after {self.timeout:g}s"
                f" (notifier.storage_pool_size = {self.pool_size})"
            ) from error
        except _DRIVER_ERRORS as error:
            raise StorageError(f"{self.name}: {error}") from error

    def release(self, connection: psycopg.Connection[Any]) -> None:
        self.pool.putconn(connection)

    def session(self, write: bool) -> PostgreSQLSession:
        return PostgreSQLSession(self, write)

    def healthy(self) -> bool:
        """Ping through the pool: a full pool counts as unhealthy, and says so."""
        try:
            with self.pool.connection() as connection:
                connection.execute("SELECT 1")
        except (*_DRIVER_ERRORS, PoolTimeout) as error:
            log.warning("%s: health check failed: %s", self.name, error)
            return False
        return True

    def close(self) -> None:
        self.pool.close()


def connect(conninfo: str, timeout: float = POOL_TIMEOUT) -> psycopg.Connection[Any]:
    """One autocommit connection outside the pool; StorageError when unreachable."""
    try:
        return psycopg.connect(conninfo, autocommit=True, connect_timeout=max(1, int(timeout)))
    except _DRIVER_ERRORS as error:
        raise StorageError(f"{describe(conninfo)}: cannot connect: {error}") from error


def _read_settings(settings: Mapping[str, Any]) -> tuple[str, int]:
    core = Section(settings, "notifier.")
    url = core.str("storage_url")
    if not url.startswith(URL_SCHEMES):
        raise SettingsError(
            core.key("storage_url"),
            "expected a postgresql://user:password@host:port/dbname URL"
            " for notifier.storage.postgresql",
            url,
        )
    return url, core.int("storage_pool_size", 10, minimum=1)


def load_from_settings(settings: Mapping[str, Any]) -> PostgreSQLStorage:
    """``notifier.storage_url`` (postgresql://...) and ``notifier.storage_pool_size``."""
    url, pool_size = _read_settings(settings)
    return PostgreSQLStorage(url, pool_size)


def migrate_from_settings(settings: Mapping[str, Any]) -> list[str]:
    """Bring the schema to the latest version; lines telling what was done."""
    url, _ = _read_settings(settings)
    with connect(url) as connection:
        applied = pgschema.upgrade(connection)
        version = pgschema.installed_version(connection)
    done = [f"applied {m.version:04d}_{m.name}" for m in applied]
    return [*done, f"{describe(url)}: schema version {version}, the latest"]
