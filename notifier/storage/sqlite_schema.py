"""The SQLite backend's tables, and the SQL that turns a row into its JSON."""

from __future__ import annotations

SCHEMA_VERSION = 1

SCHEMA = """
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
CREATE TABLE timestamps (
    parent_id TEXT NOT NULL,
    resource TEXT NOT NULL,
    last_modified INTEGER NOT NULL,
    PRIMARY KEY (parent_id, resource)
);
CREATE TABLE permissions (
    object_uri TEXT NOT NULL,
    permission TEXT NOT NULL,
    principal TEXT NOT NULL,
    PRIMARY KEY (object_uri, permission, principal)
);
CREATE INDEX permissions_by_principal ON permissions (principal, object_uri);
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
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

#: ``sql.object_json`` in SQL: a page of 100 objects costs no Python per object.
OBJECT_JSON = (
    """'{"id":' || json_quote(id) || ',"last_modified":' || last_modified || CASE"""
    """ WHEN deleted THEN ',"deleted":true}' WHEN data = '{}' THEN '}'"""
    """ ELSE ',' || substr(data, 2) END"""
)
