"""Builders and process helpers shared by the queue and worker tests."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from notifier.events import ResourceChanged

ROOT = Path(__file__).resolve().parent.parent


def make_event(number: int, action: str = "create") -> ResourceChanged:
    """A record event as the app would emit it, numbered for order checks."""
    record = {"id": f"r{number}", "last_modified": 1700000000000 + number, "n": number}
    return ResourceChanged(
        payload={
            "action": action, "resource_name": "record", "event_id": f"ev-{number}",
            "uri": f"/buckets/b/collections/c/records/r{number}", "user_id": "basicauth:alice",
            "timestamp": record["last_modified"], "bucket_id": "b", "collection_id": "c",
            "record_id": f"r{number}",
        },
        impacted_objects=[{"new": record}],
    )


class Settings:
    """The smallest thing ``load_from_config`` needs: ``get_settings()``."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = settings

    def get_settings(self) -> dict[str, Any]:
        return self.settings


def start(args: Sequence[str], env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """A Python subprocess in the repository root, stdout and stderr captured as text."""
    return subprocess.Popen(
        [sys.executable, *args], cwd=ROOT, text=True, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )


def stop(process: subprocess.Popen[str], timeout: float = 10.0) -> str:
    """Kill ``process`` if it still runs and return what it printed."""
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    output, _ = process.communicate(timeout=timeout)
    return output


def read_lines(process: subprocess.Popen[str], count: int, timeout: float = 10.0) -> list[str]:
    """The first ``count`` lines ``process`` prints; fail after ``timeout`` seconds."""
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    stream = process.stdout
    threading.Thread(target=lambda: [lines.put(line) for line in stream], daemon=True).start()
    deadline = time.monotonic() + timeout
    got: list[str] = []
    while len(got) < count:
        try:
            got.append(lines.get(timeout=max(0.0, deadline - time.monotonic())))
        except queue.Empty:
            raise AssertionError(f"got {len(got)} of {count} lines: {got}") from None
    return got


def wait_for(condition: Callable[[], Any], timeout: float = 10.0, step: float = 0.02) -> Any:
    """Poll until ``condition()`` is truthy; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout}s waiting for {condition}")
