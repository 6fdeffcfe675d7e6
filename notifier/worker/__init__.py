"""The reliable worker runtime: ``run(handler, config)`` (``notifier worker`` runs it).

Guarantees: a claimed message sits in this worker's processing list until the
handler returns (then it is acknowledged) or raises (then it is retried with
backoff, and dead-lettered after ``max_attempts``).  A worker that dies leaves
its messages to the reaper of any other worker.  The first SIGTERM/SIGINT
finishes the current message; the second gives it back to the queue and stops.

Concurrency is threads, one worker id (processing list) per thread: handlers
are mostly I/O (mail, HTTP, databases), threads share one connection pool and
one signal handler, and a crash of the process is handled by the reaper like
any other.  For CPU-bound handlers run more processes.

May import ``notifier.queue``, ``notifier.retry``, ``notifier.settings``,
``notifier.logs`` (the request id of the event a line is about),
``notifier.delivery.events`` (the event a handler gets) and, for its metrics
(``notifier.worker.metrics``), prometheus_client.

Never imports: ``notifier.http``, ``pyramid``, ``notifier.storage``, ``notifier.cli``.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

from notifier.worker.config import WorkerConfig
from notifier.worker.runtime import Handler, Runtime
from notifier.worker.status import JobObserver, LogStatus, StatusReporter, WorkerStats

__all__ = ["Handler", "JobObserver", "WorkerConfig", "WorkerStats", "run"]


def run(
    handler: Handler,
    config: WorkerConfig,
    status: StatusReporter | None = None,
    observer: JobObserver | None = None,
) -> WorkerStats:
    """Handle messages until stopped (or, in burst mode, until none is left).

    ``observer`` hears how each message ended (``notifier.worker.metrics``).
    """
    runtime = Runtime(handler, config, status or LogStatus(), observer)
    previous = _install_signals(runtime.on_signal)
    try:
        return runtime.run()
    finally:
        _restore_signals(previous)
        runtime.close()


def _install_signals(callback: Callable[[int, FrameType | None], None]) -> dict[int, Any]:
    """SIGTERM and SIGINT go to ``callback``; only possible in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {signum: signal.signal(signum, callback) for signum in (signal.SIGTERM, signal.SIGINT)}


def _restore_signals(previous: dict[int, Any]) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)
