"""The SQLite file's schema: created new, upgraded from version 1, refused when unknown."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest

from notifier.storage import OutboxEntry, StorageError, transaction
from notifier.storage.sqlite import SQLiteStorage
from notifier.storage.sqlite_schema import SCHEMA_VERSION

#: The schema that notifier wrote as version 1, as files on disk still hold it.
VERSION_1 = """
CREATE TABLE objects (
    parent_id TEXT NOT NULL, resource TEXT NOT NULL, id TEXT NOT NULL,
    last_modified INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0, data TEXT NOT NULL,
    PRIMARY KEY (parent_id, resource, id)
);
CREATE INDEX objects_by_modified ON objects (parent_id, resource, last_modified);
CREATE TABLE timestamps (
    parent_id TEXT NOT NULL, resource TEXT NOT NULL, last_modified INTEGER NOT NULL,
    PRIMARY KEY (parent_id, resource)
);
CREATE TABLE permissions (
    object_uri TEXT NOT NULL, permission TEXT NOT NULL, principal TEXT NOT NULL,
    PRIMARY KEY (object_uri, permission, principal)
);
CREATE INDEX permissions_by_principal ON permissions (principal, object_uri);
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL, listener TEXT NOT NULL,
    message TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL, created_at INTEGER NOT NULL, last_error TEXT,
    dead INTEGER NOT NULL DEFAULT 0, UNIQUE (event_id, listener)
);
CREATE INDEX outbox_by_listener ON outbox (listener, dead, seq);
PRAGMA user_version = 1;
"""

C = "/buckets/b/collections/c"


def version_1_file(path: Path) -> Path:
    """A version 1 file holding a record, its permissions and two outbox entries."""
    with sqlite3.connect(path) as db:
        db.executescript(VERSION_1)
        db.execute("INSERT INTO objects VALUES (?, 'record', 'r1', 7, 0, '{\"n\":1}')", (C,))
        db.execute("INSERT INTO timestamps VALUES (?, 'record', 7)", (C,))
        db.execute("INSERT INTO permissions VALUES (?, 'write', 'alice')", (C + "/records/r1",))
        for seq, event_id in ((5, "e5"), (9, "e9")):
            db.execute(
                "INSERT INTO outbox (seq, event_id, listener, message, next_attempt_at,"
                " created_at) VALUES (?, ?, 'redis', '{}', 0, 0)",
                (seq, event_id),
            )
    db.close()
    return path


def table_sql(path: Path) -> dict[str, str]:
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'").fetchall()
    db.close()
    return dict(rows)


def test_a_new_file_gets_the_current_schema(tmp_path: Path) -> None:
    SQLiteStorage(str(tmp_path / "new.sqlite")).close()
    tables = table_sql(tmp_path / "new.sqlite")
    assert "WITHOUT ROWID" in tables["timestamps"]
    assert "WITHOUT ROWID" in tables["permissions"]
    assert "AUTOINCREMENT" not in tables["outbox"]
    assert "sqlite_sequence" not in tables


def test_a_version_1_file_is_upgraded_keeping_its_rows(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = version_1_file(tmp_path / "old.sqlite")
    caplog.set_level(logging.INFO, logger="notifier.storage.sqlite")
    storage = SQLiteStorage(str(path))
    assert caplog.messages == [
        f"upgraded the notifier schema in {path} from version 1 to {SCHEMA_VERSION}"
    ]
    with transaction(storage) as session:
        assert session.get("record", C, "r1") == {"id": "r1", "n": 1, "last_modified": 7}
        assert session.timestamp("record", C) == 7
        assert session.get_permissions(C + "/records/r1") == {"write": {"alice"}}
        session.outbox_add([OutboxEntry("e10", "redis", "{}")])
        claimed = session.outbox_claim(now=1, lease_ms=1000, limit=10)
        created = session.create("record", C, {"id": "r2"})
    storage.close()
    assert [(entry.seq, entry.event_id) for entry in claimed] == [(5, "e5"), (9, "e9"), (10, "e10")]
    assert created["last_modified"] > 7
    tables = table_sql(path)
    assert "WITHOUT ROWID" in tables["permissions"]
    assert "AUTOINCREMENT" not in tables["outbox"]
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        indexes = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    db.close()
    assert {"permissions_by_principal", "outbox_by_listener", "objects_by_modified"} <= indexes
    assert not any(name.endswith("_old") for name in indexes)


def test_a_file_of_an_unknown_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(StorageError) as raised:
        SQLiteStorage(str(path))
    assert str(raised.value) == (
        f"{path}: schema version 99 is not one this notifier knows (it writes version"
        f" {SCHEMA_VERSION} and upgrades older ones): was the file written by a newer notifier?"
    )


def test_a_principals_memberships_are_a_seek_whatever_else_it_holds(tmp_path: Path) -> None:
    """Every request looks up its user's groups (``member``): the rows of the
    user's ``write`` on each of its records must not be read for that."""
    storage = SQLiteStorage(str(tmp_path / "plan.sqlite"))
    with transaction(storage, write=True) as session:
        session.create("bucket", "", {"id": "b"})
    storage.close()
    with sqlite3.connect(tmp_path / "plan.sqlite") as db:
        plan = db.execute(
            "EXPLAIN QUERY PLAN SELECT object_uri, permission FROM permissions"
            " WHERE principal IN ('alice', 'system.Authenticated') AND permission IN ('member')"
        ).fetchall()
    db.close()
    details = " ".join(row[-1] for row in plan)
    assert "permissions_by_principal (principal=? AND permission=?)" in details
