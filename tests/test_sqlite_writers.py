"""The SQLite backend's writers queue on a process lock: none fails, none is left holding it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from notifier.storage import StorageError, transaction
from notifier.storage.sqlite import SQLiteStorage


@pytest.fixture
def open_storage() -> Iterator[Callable[..., SQLiteStorage]]:
    """``SQLiteStorage(...)``, closed (checkpoint thread stopped) after the test."""
    opened: list[SQLiteStorage] = []

    def open_one(*args: Any, **kwargs: Any) -> SQLiteStorage:
        opened.append(SQLiteStorage(*args, **kwargs))
        return opened[-1]

    yield open_one
    for storage in opened:
        storage.close()


def test_concurrent_writers_all_commit(tmp_path: Path, open_storage: Any) -> None:
    storage = open_storage(str(tmp_path / "db.sqlite"))
    errors: list[BaseException] = []

    def write(thread: int) -> None:
        try:
            for number in range(50):
                with transaction(storage) as session:
                    session.create(
                        "record", "/buckets/b/collections/c", {"id": f"{thread}-{number}"}
                    )
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with transaction(storage, write=False) as session:
        assert session.count("record", "/buckets/b/collections/c") == 200


def test_a_rolled_back_writer_lets_the_next_one_in(tmp_path: Path, open_storage: Any) -> None:
    storage = open_storage(str(tmp_path / "db.sqlite"), busy_timeout=0.5)
    with pytest.raises(RuntimeError), transaction(storage) as session:
        session.create("record", "/p", {"id": "a"})
        raise RuntimeError("boom")
    with transaction(storage) as session:
        assert session.get("record", "/p", "a") is None


def test_a_writer_that_waits_too_long_gets_a_storage_error(
    tmp_path: Path, open_storage: Any
) -> None:
    storage = open_storage(str(tmp_path / "db.sqlite"), busy_timeout=0.1)
    holder = storage.session(write=True)
    failed: list[str] = []

    def second_writer() -> None:
        try:
            storage.session(write=True)
        except StorageError as error:
            failed.append(str(error))

    thread = threading.Thread(target=second_writer)
    thread.start()
    thread.join(timeout=10)
    holder.rollback()
    assert failed == ["sqlite: database is locked (waited 0.1s for a writer)"]
