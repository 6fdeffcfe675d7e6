"""Write requests take turns, from their first byte to their response's last, where
the storage admits one writer at a time (SQLite).

A write holds SQLite's lock from BEGIN to COMMIT and releases the GIL at every
statement.  Any other thread with Python to run meanwhile (a write request
parsing its body, another writing its response) takes the GIL each time, and
the lock holder waits to get it back.  With waitress's four threads
interleaving creates, the server spent twice the CPU per request and served
half as many as when the same requests took turns (bench/, issue #7).  So a
write request waits for its turn before Pyramid sees it and passes the turn on
when the server has sent its response.  Reads still run side by side, and
PostgreSQL, which runs writers concurrently, takes no turns.

A turn is a performance device, not a lock the data depends on: a request that
waits longer than ``TURN_TIMEOUT`` goes ahead, and the storage's own write
lock keeps it correct.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from notifier.transaction import may_write

log = logging.getLogger(__name__)

#: The longest a write request waits for its turn before going ahead anyway.
TURN_TIMEOUT = 5.0

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class WriteTurns:
    """WSGI middleware: one write request at a time in this process."""

    def __init__(self, app: WSGIApp, registry: Any, timeout: float = TURN_TIMEOUT) -> None:
        self.app = app
        self.registry = registry  # as on pyramid's Router, for serve.py and tests
        self.timeout = timeout
        self._turn = threading.Lock()

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if not may_write(environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")):
            return self.app(environ, start_response)
        if not self._turn.acquire(timeout=self.timeout):
            log.warning(
                "a write request waited %.1fs for its turn and goes ahead without it"
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
