"""Objects, timestamps and permissions: the Session protocol in SQL.

See the package docstring for the locking that keeps ``last_modified``
strictly increasing per list and read-then-write requests safe.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from psycopg.types.json import Jsonb

from notifier.storage import (
    EVERYTHING,
    Filter,
    ObjectExists,
    Permissions,
    Selection,
)
from notifier.storage.postgresql.conditions import JSONBConditions
from notifier.storage.postgresql.outbox import PostgreSQLOutbox
from notifier.storage.sql import object_json, stored_data, written_object

if TYPE_CHECKING:
    from notifier.storage.postgresql import PostgreSQLStorage

CONDITIONS = JSONBConditions()

_NOW_MS = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint"
_OBJECT = "id, last_modified, deleted, data"
#: The permission rows of a list of URIs, as one array column of the row read with them.
_PERMISSIONS_OF = (
    "ARRAY(SELECT ARRAY[object_uri, permission, principal] FROM permissions"
    " WHERE object_uri = ANY(%s::text[]))"
)
#: The timestamps of the lists below one URI, as one array column.
_STAMPS_BELOW = (
    "ARRAY(SELECT ARRAY[resource, last_modified::text] FROM timestamps WHERE parent_id = %s)"
)
#: The resources whose objects have lists below them (groups, collections, records).
LISTING_PARENTS = frozenset({"bucket", "collection"})
_BELOW = "(parent_id = %s OR (parent_id >= %s AND parent_id < %s))"


def below(uri: str) -> tuple[str, str]:
    """The half-open key range of every URI strictly below ``uri`` (bytewise)."""
    return uri + "/", uri + "0"  # "0" sorts right after "/"


def lineage(resource: str, parent_id: str, object_id: str) -> list[str]:
    """The URI of an object, then its ancestors' (``/buckets/b/collections/c/records/r``,
    ``/buckets/b/collections/c``, ``/buckets/b``).

    Only the permission rows read beside the object depend on it: a URI that
    a caller spells otherwise is looked up on its own, never answered wrong.
    """
    parts = parent_id.strip("/").split("/") if parent_id else []
    parents = ["/" + "/".join(parts[:end]) for end in range(len(parts), 0, -2)]
    return [f"{parent_id}/{resource}s/{object_id}", *parents]


def _to_object(row: Sequence[Any]) -> dict[str, Any]:
    object_id, last_modified, deleted, data = row[:4]
    if deleted:
        return {"id": object_id, "last_modified": last_modified, "deleted": True}
    return {**data, "id": object_id, "last_modified": last_modified}


class PostgreSQLSession(PostgreSQLOutbox):
    """One request's transaction: the Session protocol (the outbox in ``outbox``).

    ``get`` reads, in the same statement, the permissions of the object and
    of its ancestors, which the request checks next: ``get_permissions``
    answers them without a round trip.  They are what a query would return
    at that point: in a read session (REPEATABLE READ) every statement sees
    that snapshot anyway; in a write session permissions are never locked,
    so a statement a moment later could see a newer commit, and might as
    well have run a moment sooner.  The session's own permission writes
    (and a rollback to a savepoint) drop them.

    In a read session ``get`` reads the timestamps of the lists below the
    object too (a list page asks for its collection's next), which the
    snapshot keeps true until the session ends; a write session stamps
    lists itself, and reads them when asked.
    """

    def __init__(self, storage: PostgreSQLStorage, write: bool) -> None:
        super().__init__(storage, write)
        self._permissions: dict[str, Permissions] = {}
        self._stamps: dict[str, dict[str, int]] = {}  # parent_id -> resource -> timestamp

    def get(
        self, resource: str, parent_id: str, object_id: str, shared: bool = False
    ) -> dict[str, Any] | None:
        uris = lineage(resource, parent_id, object_id)
        # Only buckets and collections have lists below them to stamp.
        reads_stamps = not self.write and resource in LISTING_PARENTS
        stamps = _STAMPS_BELOW if reads_stamps else "NULL"
        sql = (
            f"SELECT {_OBJECT}, {_PERMISSIONS_OF}, {stamps} FROM objects"
            " WHERE parent_id = %s AND resource = %s AND id = %s"
        )
        params = [uris, parent_id, resource, object_id]
        if self.write and not shared:
            self._lock_key(resource, parent_id, object_id)
        if self.write:
            sql += " FOR SHARE OF objects" if shared else " FOR UPDATE OF objects"
        elif reads_stamps:
            params.insert(1, uris[0])
        row = self._execute(sql, params).fetchone()
        if row is None:
            return None
        found: dict[str, Permissions] = {uri: {} for uri in uris}
        for uri, permission, principal in row[4]:
            found[uri].setdefault(permission, set()).add(principal)
        self._permissions.update(found)
        if row[5] is not None:
            self._stamps[uris[0]] = {below: int(stamp) for below, stamp in row[5]}
        return None if row[2] else _to_object(row)

    def _lock_key(self, resource: str, parent_id: str, object_id: str) -> None:
        """Take this id's lock until commit, whether or not the object exists yet.

        FOR UPDATE locks only a row that exists: without this, writers of one
        new id each read "absent", and all but one then fail on the insert
        (or deadlock on the rows they lock after it).  With it they queue,
        and each one after the first reads the committed object, as on SQLite.
        """
        key = f"{parent_id}\x1f{resource}\x1f{object_id}"
        self._send("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (key,))

    def _store(
        self,
        resource: str,
        parent_id: str,
        obj: dict[str, Any],
        deleted: bool = False,
        over_tombstone_only: bool = False,
    ) -> dict[str, Any]:
        """Write the object with the list's next stamp, in one statement (one round trip).

        The stamp comes from an upsert of the list's ``timestamps`` row (see the
        package docstring), in the same statement as the object's insert.
        ``over_tombstone_only``: a live object with this id makes the insert a
        no-op that returns no row; the list's timestamp then goes back to its
        newest object's (what it was: every stamp the upsert gives is written to
        an object) and ObjectExists is raised.
        """
        data = stored_data(obj)
        replace = " WHERE objects.deleted = 1" if over_tombstone_only else ""
        row = self._execute(
            "WITH stamp AS (INSERT INTO timestamps (parent_id, resource, last_modified)"
            f" VALUES (%(parent)s, %(resource)s, {_NOW_MS}) ON CONFLICT (parent_id, resource)"
            f" DO UPDATE SET last_modified = GREATEST({_NOW_MS}, timestamps.last_modified + 1)"
            " RETURNING last_modified)"
            " INSERT INTO objects (parent_id, resource, id, last_modified, deleted, data)"
            " SELECT %(parent)s, %(resource)s, %(id)s, stamp.last_modified, %(deleted)s, %(data)s"
            " FROM stamp ON CONFLICT (parent_id, resource, id) DO UPDATE"
            " SET last_modified = EXCLUDED.last_modified, deleted = EXCLUDED.deleted,"
            f" data = EXCLUDED.data{replace} RETURNING last_modified",
            {
                "parent": parent_id,
                "resource": resource,
                "id": obj["id"],
                "deleted": int(deleted),
                "data": Jsonb({} if deleted else data),
            },
        ).fetchone()
        if row is None:  # a live object has this id
            self._execute(
                "UPDATE timestamps SET last_modified = (SELECT max(last_modified) FROM objects"
                " WHERE parent_id = %(parent)s AND resource = %(resource)s)"
                " WHERE parent_id = %(parent)s AND resource = %(resource)s",
                {"parent": parent_id, "resource": resource},
            )
            raise ObjectExists(self.get(resource, parent_id, obj["id"]) or {"id": obj["id"]})
        return written_object(obj["id"], int(row[0]), data, deleted)

    def create(self, resource: str, parent_id: str, obj: dict[str, Any]) -> dict[str, Any]:
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
        self._send(f"DELETE FROM timestamps WHERE {_BELOW}", params)
        return [(row[0], row[1], _to_object(row[2:])) for row in rows]

    def list(
        self, resource: str, parent_id: str, selection: Selection = EVERYTHING
    ) -> list[dict[str, Any]]:
        sql, params = CONDITIONS.select(_OBJECT, resource, parent_id, selection)
        return [_to_object(row) for row in self._execute(sql, params).fetchall()]

    def list_json(
        self, resource: str, parent_id: str, selection: Selection = EVERYTHING
    ) -> builtins.list[str]:
        columns = "id, last_modified, deleted, data::text"
        sql, params = CONDITIONS.select(columns, resource, parent_id, selection)
        return [object_json(*row[:4]) for row in self._execute(sql, params).fetchall()]

    def count(self, resource: str, parent_id: str, filters: Sequence[Filter] = ()) -> int:
        sql, params = CONDITIONS.count(resource, parent_id, filters)
        row = self._execute(sql, params).fetchone()
        return int(row[0]) if row else 0

    def timestamp(self, resource: str, parent_id: str) -> int:
        if parent_id in self._stamps:
            return self._stamps[parent_id].get(resource, 0)
        row = self._execute(
            "SELECT last_modified FROM timestamps WHERE parent_id = %s AND resource = %s",
            (parent_id, resource),
        ).fetchone()
        return int(row[0]) if row else 0

    def get_permissions(self, uri: str) -> Permissions:
        if uri in self._permissions:
            return {name: set(who) for name, who in self._permissions[uri].items()}
        permissions: Permissions = {}
        rows = self._execute(
            "SELECT permission, principal FROM permissions WHERE object_uri = %s", (uri,)
        ).fetchall()
        for permission, principal in rows:
            permissions.setdefault(permission, set()).add(principal)
        return permissions

    def set_permissions(
        self, uri: str, permissions: Mapping[str, set[str]], *, new_object: bool = False
    ) -> None:
        self._permissions.clear()
        if not new_object:
            self._send("DELETE FROM permissions WHERE object_uri = %s", (uri,))
        rows = [(uri, perm, who) for perm, principals in permissions.items() for who in principals]
        if rows:
            self._send(
                "INSERT INTO permissions (object_uri, permission, principal)"
                " SELECT %s, * FROM unnest(%s::text[], %s::text[])",
                (uri, [row[1] for row in rows], [row[2] for row in rows]),
            )

    def delete_permissions(self, uri: str) -> None:
        self._permissions.clear()
        self._send(
            "DELETE FROM permissions WHERE object_uri = %s"
            " OR (object_uri >= %s AND object_uri < %s)",
            (uri, *below(uri)),
        )

    def rollback_to(self, name: str) -> None:
        self._permissions.clear()
        super().rollback_to(name)

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

    def granted(
        self, principals: Sequence[str], permissions: Sequence[str] | None = None
    ) -> Permissions:
        sql = "SELECT object_uri, permission FROM permissions WHERE principal = ANY(%s::text[])"
        params: list[Any] = [list(principals)]
        if permissions is not None:
            sql += " AND permission = ANY(%s::text[])"
            params.append(list(permissions))
        found: Permissions = {}
        for uri, permission in self._execute(sql, params).fetchall():
            found.setdefault(uri, set()).add(permission)
        return found
