"""What the conformance tests share: a collection's path, writes, reads on another thread."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from notifier.storage import Storage, transaction

RECORDS = "/buckets/b/collections/c"


def in_thread(function: Callable[[], Any]) -> Any:
    """Run ``function`` on another thread (so on another connection) and return its result."""
    with ThreadPoolExecutor(1) as executor:
        return executor.submit(function).result(timeout=30)


def read(storage: Storage, function: Callable[[Any], Any]) -> Any:
    """``function(session)`` in a read transaction on another thread."""

    def run() -> Any:
        with transaction(storage, write=False) as session:
            return function(session)

    return in_thread(run)


def create_records(storage: Storage, *records: dict[str, Any]) -> list[dict[str, Any]]:
    """Create ``records`` under ``RECORDS`` in one transaction; return what ``create`` gave."""
    with transaction(storage) as session:
        return [session.create("record", RECORDS, record) for record in records]
