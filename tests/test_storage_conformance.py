"""The storage conformance suite, run on both backends as a third-party backend runs it.

The suite lives in the package (``notifier.storage.testing``); each class here
only says how to make an empty backend.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from notifier.storage.postgresql import PostgreSQLStorage
from notifier.storage.sqlite import SQLiteStorage
from notifier.storage.testing import StorageConformance


class TestSQLite(StorageConformance):
    @pytest.fixture
    def storage(self, tmp_path: Path) -> Iterator[SQLiteStorage]:
        backend = SQLiteStorage(str(tmp_path / "conformance.sqlite"))
        yield backend
        backend.close()


class TestPostgreSQL(StorageConformance):
    @pytest.fixture
    def storage(self, postgresql_migrated_url: str) -> Iterator[PostgreSQLStorage]:
        backend = PostgreSQLStorage(postgresql_migrated_url, pool_size=4)
        yield backend
        backend.close()
