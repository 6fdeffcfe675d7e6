"""Dispatch overhead: time per event per listener, for no-op listeners.

    python bench/dispatch_overhead.py [--events 2000] [--listeners 4] [--runs 5]

Measures what the dispatcher adds to a request: matching each event against
each listener's filter and calling the listener, with and without filters;
and the same path with the outbox rows written to and removed from SQLite.
Prints JSON (median, min and max of several runs, in microseconds).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from notifier.delivery import filters
from notifier.delivery.changes import AfterCommit, BeforeCommit, Change, RequestTransaction
from notifier.delivery.dispatcher import Dispatcher
from notifier.delivery.events import ResourceChanged
from notifier.delivery.loader import LoadedListener
from notifier.listeners import ListenerBase
from notifier.retry import RetryPolicy
from notifier.storage import transaction
from notifier.storage.sqlite import SQLiteStorage


class NoOp(ListenerBase):
    def __call__(self, event: Any) -> None:
        pass


def make_changes(count: int) -> list[Change]:
    return [
        Change.make(
            "create",
            "record",
            "/buckets/b/collections/c",
            None,
            {"id": f"r{n}", "last_modified": n, "title": "x" * 40},
            "basicauth:alice",
        )
        for n in range(count)
    ]


def listeners(count: int, filtered: bool) -> list[LoadedListener]:
    chosen = filters.everything()
    if filtered:
        chosen = (
            filters.actions("create", "update")
            & filters.resources("record")
            & filters.buckets("b*")
            & ~filters.ids("tmp-*")
        )
    return [LoadedListener(f"noop{n}", NoOp(), chosen) for n in range(count)]


def pure_dispatch(dispatcher: Dispatcher, changes: list[Change]) -> float:
    start = time.perf_counter()
    events = [ResourceChanged.of_change(change) for change in changes]
    for loaded in dispatcher.listeners:
        loaded.deliver([event for event in events if loaded.wants(event)])
    return time.perf_counter() - start


class FakeRequest:
    """Just an environ: the dispatcher keeps its pending deliveries there."""

    def __init__(self) -> None:
        self.environ: dict[str, Any] = {}


def with_outbox(dispatcher: Dispatcher, storage: SQLiteStorage, changes: list[Change]) -> float:
    start = time.perf_counter()
    for change in changes:  # one event per request, as a single create is
        request = FakeRequest()
        with transaction(storage) as session:
            state = RequestTransaction(session, [change])
            dispatcher.before_commit(BeforeCommit(request, state))  # type: ignore[arg-type]
        dispatcher.after_commit(AfterCommit(request, state))  # type: ignore[arg-type]
    return time.perf_counter() - start


def measure(args: argparse.Namespace, filtered: bool, outbox: bool, folder: Path) -> dict:
    loaded = listeners(args.listeners, filtered)
    storage = SQLiteStorage(str(folder / f"bench-{filtered}-{outbox}.sqlite"))
    dispatcher = Dispatcher(storage, loaded, RetryPolicy())
    changes = make_changes(args.events)
    samples = []
    for _ in range(args.runs):
        elapsed = (
            with_outbox(dispatcher, storage, changes)
            if outbox
            else pure_dispatch(dispatcher, changes)
        )
        samples.append(elapsed / (args.events * args.listeners) * 1e6)
    return {
        "filtered": filtered,
        "outbox": outbox,
        "listeners": args.listeners,
        "events": args.events,
        "us_per_event_per_listener": {
            "median": round(statistics.median(samples), 2),
            "min": round(min(samples), 2),
            "max": round(max(samples), 2),
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--listeners", type=int, default=4)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        results = [
            measure(args, filtered, outbox, Path(folder))
            for outbox in (False, True)
            for filtered in (False, True)
        ]
    json.dump({"benchmark": "dispatch_overhead", "results": results}, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
