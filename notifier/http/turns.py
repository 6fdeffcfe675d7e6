"""Requests take turns, from their first byte to their response's last, where the
storage asks for it (SQLite).

A SQLite statement takes microseconds and releases the GIL around each step.
With waitress's four threads each running a request, every release lets
another thread take the GIL, and the first waits to get it back: the threads
spend their time handing the GIL around.  On the 2-core benchmark machine,
creates ran at half the rate, and single-record reads at under half, of the
same requests taking turns (bench/, issue #7).  SQLite admits one writer at a
time anyway.  So a request waits for its turn before Pyramid sees it and
passes the turn on when the server has sent its response; waitress's own
thread still reads and writes the sockets meanwhile.  PostgreSQL, whose
statements wait on the network and whose writers run concurrently, takes no
turns.

A turn is a performance device, not a lock the data depends on: a request that
waits longer than ``TURN_TIMEOUT`` goes ahead, and the storage's own write
lock keeps it correct.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

log = logging.getLogger(__name__)

#: The longest a request waits for its turn before going ahead anyway.
TURN_TIMEOUT = 5.0

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class Turns:
    """WSGI middleware: one request at a time in this process."""

    def __init__(self, app: WSGIApp, registry: Any, timeout: float = TURN_TIMEOUT) -> None:
        self.app = app
        self.registry = registry  # as on pyramid's Router, for serve.py and tests
        self.timeout = timeout
        self._turn = threading.Lock()

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if not self._turn.acquire(timeout=self.timeout):
            log.warning(
                "a request waited %.1fs for its turn and goes ahead without it"
                " (a listener slower than that holds the turn)",
                self.timeout,
            )
            return self.app(environ, start_response)
        try:
            body = self.app(environ, start_response)
        except BaseException:
            self._turn.release()
            raise
        return _ReleasedOnClose(body, self._turn.release)


class _ReleasedOnClose:
    """A response body that passes the turn on when the server closes it (PEP 3333)."""

    def __init__(self, body: Iterable[bytes], release: Callable[[], None]) -> None:
        self.body = body
        self._release: Callable[[], None] | None = release

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.body)

    def close(self) -> None:
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            release, self._release = self._release, None
            if release is not None:
                release()
