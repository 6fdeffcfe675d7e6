"""Builders and process helpers shared by the queue and worker tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import webtest

import notifier
from notifier.delivery.events import ResourceChanged
from notifier.delivery.loader import load_listener

ROOT = Path(__file__).resolve().parent.parent
LISTENERS = "notifier.event_listeners."


def make_event(number: int, action: str = "create") -> ResourceChanged:
    """A record event as the app would emit it, numbered for order checks."""
    record = {"id": f"r{number}", "last_modified": 1700000000000 + number, "n": number}
    return ResourceChanged(
        payload={
            "action": action,
            "resource_name": "record",
            "event_id": f"ev-{number}",
            "uri": f"/buckets/b/collections/c/records/r{number}",
            "user_id": "basicauth:alice",
            "timestamp": record["last_modified"],
            "bucket_id": "b",
            "collection_id": "c",
            "record_id": f"r{number}",
        },
        impacted_objects=[{"new": record}],
    )


def load_as_the_ini_does(config: Any, prefix: str, module: str) -> Any:
    """The listener ``module`` builds under ``prefix``, loaded as an INI line loads it:
    the loader refuses unknown keys (the one place that checks them) and checks the contract."""
    settings = config.get_settings()
    settings.setdefault(prefix + "use", module)
    name = prefix[len(LISTENERS) : -1]
    return load_listener(config, settings, name).listener


class Settings:
    """The smallest thing ``load_from_config`` needs: ``get_settings()``."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = settings

    def get_settings(self) -> dict[str, Any]:
        return self.settings


class Process:
    """A Python subprocess in the repository root whose output a thread collects."""

    def __init__(self, args: Sequence[str], env: dict[str, str] | None = None) -> None:
        self.popen = subprocess.Popen(
            [sys.executable, *args],
            cwd=ROOT,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        )
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def send_signal(self, signum: int) -> None:
        self.popen.send_signal(signum)

    def wait(self, timeout: float) -> int:
        return self.popen.wait(timeout=timeout)

    def poll(self) -> int | None:
        return self.popen.poll()

    def stop(self, timeout: float = 10.0) -> str:
        """Kill the process if it still runs and return what it printed."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(timeout=timeout)
        self.reader.join(timeout)
        return self.output


def start(args: Sequence[str], env: dict[str, str] | None = None) -> Process:
    return Process(args, env)


def stop(process: Process, timeout: float = 10.0) -> str:
    return process.stop(timeout)


def read_lines(process: Process, count: int, timeout: float = 10.0) -> list[str]:
    """The first ``count`` lines ``process`` prints; fail after ``timeout`` seconds."""
    wait_for(lambda: len(process.lines) >= count, timeout)
    return process.lines[:count]


def wait_for(condition: Callable[[], Any], timeout: float = 10.0, step: float = 0.02) -> Any:
    """Poll until ``condition()`` is truthy; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout}s waiting for {condition}")


def server_answers(port: int) -> bool:
    """True once a notifier server on 127.0.0.1:``port`` answers its load-balancer heartbeat."""
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/__lbheartbeat__", timeout=1):
            return True
    except OSError:
        return False


#: Apps the running test built with ``open_app``, shut down when it ends.
OPEN_APPS: list[webtest.TestApp] = []


def open_app(**settings: Any) -> webtest.TestApp:
    """The real app on ``settings``; shut down (relay, listeners, storage) after the test."""
    app = webtest.TestApp(notifier.main({}, **settings))
    OPEN_APPS.append(app)
    return app


def close_app(app: webtest.TestApp) -> None:
    """Shut ``app`` down now (a fixture whose own teardown needs it stopped first)."""
    if app in OPEN_APPS:
        OPEN_APPS.remove(app)
        notifier.shutdown(app.app.registry)
