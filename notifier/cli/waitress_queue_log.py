"""Waitress's "Task queue depth is N" warning, once per interval instead of once per request.

Waitress warns each time a request has to queue for a thread.  On SQLite,
requests take turns (``notifier.http.turns``), so under load every thread is busy
and every request logged the same line: 800 lines a second at 800 requests
a second, and about a tenth of the server's CPU time (bench/, issue #7).

A logging filter dropped the lines, but only after the logger had built a
``LogRecord`` for each: still 6% of the time the server held the GIL under
the create load.  So the throttle stands in for waitress's queue logger and
decides before any record exists.  The first warning of each interval gets
through, saying how many it stands for.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from waitress.task import ThreadedTaskDispatcher

LOGGER = "waitress.queue"
INTERVAL = 10.0


class ThrottledQueueLogger:
    """Passes one warning per ``interval`` seconds to ``logger``, counting the ones it held back.

    Anything other than ``warning`` goes to ``logger`` as it is.
    """

    def __init__(
        self,
        logger: logging.Logger,
        interval: float = INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger
        self.interval = interval
        self.clock = clock
        self._lock = threading.Lock()
        self._next = float("-inf")
        self._held = 0

    def warning(self, msg: str, *args: Any, **kwargs: Any) -> None:
        now = self.clock()
        with self._lock:
            if now < self._next:
                self._held += 1
                return
            held, self._held = self._held, 0
            self._next = now + self.interval
        if held:
            msg = f"{msg} (and {held} more in the last {self.interval:.0f}s)"
        self.logger.warning(msg, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.logger, name)


def throttle_queue_warnings(interval: float = INTERVAL) -> ThrottledQueueLogger:
    """Make waitress's task dispatchers warn through the throttle; return it.

    ``queue_logger`` is a class attribute of waitress's dispatcher, so the
    dispatcher that ``waitress.serve`` creates afterwards warns through it.
    """
    throttle = ThrottledQueueLogger(logging.getLogger(LOGGER), interval)
    ThreadedTaskDispatcher.queue_logger = throttle
    return throttle
