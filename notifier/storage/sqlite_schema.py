"""The SQLite backend's tables, and the SQL that turns a row into its JSON."""

from __future__ import annotations

import sqlite3

SCHEMA_VERSION = 3

OBJECTS = """
CREATE TABLE objects (
    parent_id TEXT NOT NULL,
    resource TEXT NOT NULL,
    id TEXT NOT NULL,
    last_modified INTEGER NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    data TEXT NOT NULL,
    PRIMARY KEY (parent_id, resource, id)
);
CREATE INDEX objects_by_modified ON objects (parent_id, resource, last_modified);
"""

# Small rows looked up by their whole key: WITHOUT ROWID keeps one B-tree
# where a rowid table kept two, one page fewer to write per commit.
TIMESTAMPS = """
CREATE TABLE timestamps (
    parent_id TEXT NOT NULL,
    resource TEXT NOT NULL,
    last_modified INTEGER NOT NULL,
    PRIMARY KEY (parent_id, resource)
) WITHOUT ROWID;
"""

# What a principal holds, by permission: a user's group memberships and the
# objects it may read are seeks, however many records its write permission
# covers.  Version 2 indexed (principal, object_uri) only, so every request
# scanned all of its user's permission rows to find the few ``member`` ones.
PERMISSIONS_BY_PRINCIPAL = """
CREATE INDEX permissions_by_principal ON permissions (principal, permission, object_uri);
"""

PERMISSIONS = (
    """
CREATE TABLE permissions (
    object_uri TEXT NOT NULL,
    permission TEXT NOT NULL,
    principal TEXT NOT NULL,
    PRIMARY KEY (object_uri, permission, principal)
) WITHOUT ROWID;
"""
    + PERMISSIONS_BY_PRINCIPAL
)


# ``seq`` orders the entries present at one time, which max(seq) + 1 does;
# AUTOINCREMENT only added a write to sqlite_sequence on every insert.
OUTBOX = """
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL,
    listener TEXT NOT NULL,
    message TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    last_error TEXT,
    dead INTEGER NOT NULL DEFAULT 0,
    UNIQUE (event_id, listener)
);
CREATE INDEX outbox_by_listener ON outbox (listener, dead, seq);
"""

SCHEMA = OBJECTS + TIMESTAMPS + PERMISSIONS + OUTBOX


def rebuild(table: str, ddl: str, indexes: tuple[str, ...] = ()) -> str:
    """SQL that moves ``table`` into a new definition, keeping its rows."""
    drops = "".join(f"DROP INDEX {index};\n" for index in indexes)
    return (
        f"{drops}ALTER TABLE {table} RENAME TO {table}_old;\n{ddl}"
        f"INSERT INTO {table} SELECT * FROM {table}_old;\nDROP TABLE {table}_old;\n"
    )


#: The SQL that brings a file of each older schema version to the next one.
UPGRADES = {
    1: rebuild("timestamps", TIMESTAMPS)
    + rebuild("permissions", PERMISSIONS, ("permissions_by_principal",))
    + rebuild("outbox", OUTBOX, ("outbox_by_listener",)),
    2: "DROP INDEX permissions_by_principal;\n" + PERMISSIONS_BY_PRINCIPAL,
}


def statements(script: str) -> list[str]:
    """The statements of ``script``, so they can run inside one transaction.

    ``executescript`` would commit a pending transaction first, and a
    migration must hold the write lock from reading the version to writing it.
    """
    found, pending = [], ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            found.append(pending.strip())
            pending = ""
    return found


#: ``sql.object_json`` in SQL: a page of 100 objects costs no Python per object.
OBJECT_JSON = (
    """'{"id":' || json_quote(id) || ',"last_modified":' || last_modified || CASE"""
    """ WHEN deleted THEN ',"deleted":true}' WHEN data = '{}' THEN '}'"""
    """ ELSE ',' || substr(data, 2) END"""
)
