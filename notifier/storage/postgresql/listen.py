"""Wake a relay as soon as outbox entries are due: LISTEN on a connection of its own.

The session NOTIFYs its schema's channel (``outbox.channel``) when it adds entries that are due at
once or replays dead ones; PostgreSQL delivers the notification at commit,
so a relay never wakes for a write that rolled back.  The connection is not
from the pool: it sits in LISTEN for the relay's whole life, and a pooled
connection would be reset (and stop listening) when given back.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import psycopg

from notifier.storage.postgresql.transaction import DRIVER_ERRORS

log = logging.getLogger(__name__)


class OutboxWaiter:
    """One LISTEN connection, opened at the first wait and again after it is lost."""

    def __init__(self, conninfo: str, name: str, connect_timeout: float, channel: str) -> None:
        self.conninfo = conninfo
        self.channel = channel
        self.name = name
        self.connect_timeout = connect_timeout
        self._connection: psycopg.Connection[Any] | None = None
        self._lock = threading.Lock()
        self._closed = False

    def wait(self, timeout: float) -> bool:
        """Whether a notification came within ``timeout`` seconds.

        A lost or refused connection is logged and the timeout waited out, so
        the relay falls back to polling until the database answers again.
        """
        with self._lock:
            try:
                if not self._closed:
                    return self._wait(timeout)
            except DRIVER_ERRORS as error:
                log.warning(
                    "%s: LISTEN %s failed, polling instead: %s", self.name, self.channel, error
                )
                self._close()
        time.sleep(timeout)
        return False

    def _wait(self, timeout: float) -> bool:
        connection = self._listening()
        woken = any(True for _ in connection.notifies(timeout=timeout, stop_after=1))
        if woken:  # one round claims whatever several commits added
            for _ in connection.notifies(timeout=0):
                pass
        return woken

    def _listening(self) -> psycopg.Connection[Any]:
        if self._connection is None or self._connection.closed:
            connection = psycopg.connect(
                self.conninfo, autocommit=True, connect_timeout=max(1, int(self.connect_timeout))
            )
            connection.execute(f"LISTEN {self.channel}")
            self._connection = connection
        return self._connection

    def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    def close(self) -> None:
        """Close the connection for good; waits for a wait in progress (at most its timeout)."""
        with self._lock:
            self._closed = True
            self._close()
