"""SQLite's log reaches the database file from a background thread, not from a COMMIT."""

from __future__ import annotations

import sqlite3
import threading
from contextlib import closing
from pathlib import Path

from notifier.storage import transaction
from notifier.storage.sqlite import SQLiteStorage
from tests.helpers import wait_for

THREAD = "notifier-sqlite-checkpoint"


def checkpoint_threads() -> set[threading.Thread]:
    """This process's checkpoint threads (other tests' storages may still run theirs)."""
    return {thread for thread in threading.enumerate() if thread.name == THREAD}


def in_database_file(path: Path, bucket_id: str) -> bool:
    """Is the bucket in the file itself?  ``immutable`` reads it without the log."""
    query = "SELECT count(*) FROM objects WHERE resource = 'bucket' AND id = ?"
    with closing(sqlite3.connect(f"file:{path}?immutable=1", uri=True)) as db:
        try:
            return bool(db.execute(query, (bucket_id,)).fetchone()[0])
        except sqlite3.OperationalError:  # not even the schema is in the file yet
            return False


def test_a_write_is_checkpointed_into_the_file_while_the_storage_is_open(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    before = checkpoint_threads()
    storage = SQLiteStorage(str(path))
    try:
        assert checkpoint_threads() == before
        with transaction(storage) as session:
            session.create("bucket", "", {"id": "b"})
        assert len(checkpoint_threads() - before) == 1
        # One small commit is far below SQLite's own threshold: only the thread copies it.
        wait_for(lambda: in_database_file(path, "b"), timeout=5)
    finally:
        storage.close()
    assert checkpoint_threads() <= before


def test_reading_starts_no_thread(tmp_path: Path) -> None:
    before = checkpoint_threads()
    storage = SQLiteStorage(str(tmp_path / "db.sqlite"))
    try:
        with transaction(storage, write=False) as session:
            assert session.get("bucket", "", "b") is None
        assert checkpoint_threads() <= before
    finally:
        storage.close()
