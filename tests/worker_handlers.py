"""Handlers for worker subprocesses in the tests, steered by environment variables.

NOTIFIER_TEST_OUT   file that gets "start <event_id>" and "done <event_id>" lines
NOTIFIER_TEST_SLEEP seconds each handler call sleeps between the two lines
"""

from __future__ import annotations

import os
import time

from notifier.delivery.events import ResourceChanged


def _write(line: str) -> None:
    with open(os.environ["NOTIFIER_TEST_OUT"], "a") as out:
        out.write(line + "\n")


def record(event: ResourceChanged) -> None:
    _write(f"start {event.event_id}")
    time.sleep(float(os.environ.get("NOTIFIER_TEST_SLEEP", "0")))
    _write(f"done {event.event_id}")


def fail(event: ResourceChanged) -> None:
    raise RuntimeError(f"boom {event.event_id}")


def fail_odd(event: ResourceChanged) -> None:
    """Fails on ``ev-1``, ``ev-3``...; records the others."""
    if int(event.event_id.rsplit("-", 1)[1]) % 2:
        raise RuntimeError(f"odd {event.event_id}")
    record(event)
