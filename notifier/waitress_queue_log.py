"""Waitress's "Task queue depth is N" warning, once per interval instead of once per request.

Waitress warns each time a request has to queue for a thread.  On SQLite,
requests take turns (``notifier.turns``), so under load every thread is busy
and every request logged the same line: 800 lines a second at 800 requests
a second, and about a tenth of the server's CPU time (bench/, issue #7).
The first warning of each interval gets through, saying how many it stands
for; the rest are dropped before any handler formats or writes them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

LOGGER = "waitress.queue"
INTERVAL = 10.0


class QueueWarningThrottle(logging.Filter):
    """Passes one record per ``interval`` seconds, counting the ones it held back."""

    def __init__(self, interval: float = INTERVAL, clock: Callable[[], float] = time.monotonic):
        super().__init__()
        self.interval = interval
        self.clock = clock
        self._lock = threading.Lock()
        self._next = float("-inf")
        self._held = 0

    def filter(self, record: logging.LogRecord) -> bool:
        now = self.clock()
        with self._lock:
            if now < self._next:
                self._held += 1
                return False
            held, self._held = self._held, 0
            self._next = now + self.interval
        if held:
            message = record.getMessage()
            record.msg = f"{message} (and {held} more in the last {self.interval:.0f}s)"
            record.args = None
        return True


def throttle_queue_warnings(interval: float = INTERVAL) -> QueueWarningThrottle:
    """Install the throttle on waitress's queue logger; return it."""
    throttle = QueueWarningThrottle(interval)
    logging.getLogger(LOGGER).addFilter(throttle)
    return throttle
