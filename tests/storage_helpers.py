"""Helpers of the storage conformance suites: work on another thread, so another connection."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from notifier.storage import Storage, transaction


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
