"""The initial schema: objects, list timestamps and permissions.

Every key column uses the "C" collation: ordering is bytewise, as in SQLite,
which the key-range scans (``uri + "/"`` .. ``uri + "0"``) and ``_sort=id``
rely on whatever the database's default collation is.
"""

SQL = """
CREATE TABLE objects (
    parent_id TEXT COLLATE "C" NOT NULL,
    resource TEXT COLLATE "C" NOT NULL,
    id TEXT COLLATE "C" NOT NULL,
    last_modified BIGINT NOT NULL,
    deleted SMALLINT NOT NULL DEFAULT 0,
    data JSONB NOT NULL DEFAULT '{}',
    PRIMARY KEY (parent_id, resource, id)
);
CREATE INDEX objects_by_modified ON objects (parent_id, resource, last_modified);

CREATE TABLE timestamps (
    parent_id TEXT COLLATE "C" NOT NULL,
    resource TEXT COLLATE "C" NOT NULL,
    last_modified BIGINT NOT NULL,
    PRIMARY KEY (parent_id, resource)
);

CREATE TABLE permissions (
    object_uri TEXT COLLATE "C" NOT NULL,
    permission TEXT COLLATE "C" NOT NULL,
    principal TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (object_uri, permission, principal)
);
CREATE INDEX permissions_by_principal ON permissions (principal, object_uri);
"""
