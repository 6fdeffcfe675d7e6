"""A real push process beside a real API server, and small SSE/WebSocket clients."""

from __future__ import annotations

import http.client
import json
import re
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import notifier
from tests.conftest import SECRET, serving
from tests.helpers import Process, start, stop, wait_for
from tests.ini import write_ini

L = "notifier.event_listeners"


def stack_settings(tmp_path: Path, redis_url: str, stream: str, **extra: str) -> dict[str, str]:
    return {
        "notifier.storage_url": str(tmp_path / "notifier.sqlite"),
        "notifier.userid_hmac_secret": SECRET,
        L: "stream",
        f"{L}.stream.use": "notifier.listeners.stream",
        f"{L}.stream.url": redis_url,
        f"{L}.stream.stream": stream,
        "notifier.push.port": "0",
        "notifier.push.recheck_seconds": "1",
        "notifier.push.keepalive_seconds": "1",
        **extra,
    }


@dataclass
class Stack:
    api: str
    push: str
    process: Process


def start_push(ini: str) -> tuple[Process, str]:
    """Start ``python -m notifier.push ini``; return it and the URL it serves."""
    process = start(["-m", "notifier.push", ini])
    found = wait_for(lambda: re.search(r"push: serving (http://\S+)", process.output), 20)
    base = found.group(1)
    wait_for(lambda: get_status(base + "/__heartbeat__") == 200, 20)
    return process, base


@contextmanager
def push_stack(tmp_path: Path, redis_url: str, stream: str, **extra: str) -> Iterator[Stack]:
    """The API (waitress, in this process) and the push service (a subprocess)."""
    settings = stack_settings(tmp_path, redis_url, stream, **extra)
    app = notifier.main({}, **settings)
    try:
        with serving(app, threads=4) as api:
            ini = write_ini(
                tmp_path / "app.ini", {"notifier.push.api_url": api + "/v1", **settings}
            )
            process, push = start_push(ini)
            try:
                yield Stack(api, push, process)
            finally:
                stop(process)
    finally:
        notifier.shutdown(app.registry)


def get_status(url: str, headers: dict[str, str] | None = None) -> int:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except OSError:
        return 0


def api_call(base: str, method: str, path: str, headers: dict[str, str], body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        base + "/v1" + path,
        data=data,
        method=method,
        headers={**headers, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"null")


class SSE:
    """A Server-Sent Events client on http.client: each read bounded by ``timeout``."""

    def __init__(
        self, base: str, path: str, headers: dict[str, str] | None = None, timeout: float = 10.0
    ) -> None:
        parts = urlsplit(base)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
        self.connection.request(
            "GET", path, headers={"Accept": "text/event-stream", **(headers or {})}
        )
        self.response = self.connection.getresponse()
        self.status = self.response.status
        self.comments: list[str] = []

    def body(self) -> Any:
        return json.loads(self.response.read())

    def next(self) -> dict[str, Any] | None:
        """The next event as {"id", "event", "data"}; None at the end of the stream."""
        event: dict[str, Any] = {}
        while True:
            line = self.response.readline().decode()
            if not line:
                return None
            line = line.rstrip("\n")
            if not line:
                if event:
                    return event
                continue
            if line.startswith(":"):
                self.comments.append(line)
                continue
            name, _, value = line.partition(": ")
            event[name] = json.loads(value) if name == "data" else value

    def take(self, count: int) -> list[dict[str, Any]]:
        events = []
        deadline = time.monotonic() + 20
        while len(events) < count and time.monotonic() < deadline:
            event = self.next()
            if event is None:
                break
            events.append(event)
        return events

    def close(self) -> None:
        self.connection.close()
