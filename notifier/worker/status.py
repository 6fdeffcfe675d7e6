"""Progress reports of a running worker: a live line on a TTY, log lines elsewhere;
and the observer that hears of each message (the worker's metrics)."""

from __future__ import annotations

import logging
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Literal, Protocol, TextIO

log = logging.getLogger(__name__)


@dataclass
class WorkerStats:
    """Counters of one ``run``: handled, failed attempts, dead-lettered, requeued."""

    processed: int = 0
    failed: int = 0
    dead: int = 0
    requeued: int = 0
    started: float = field(default_factory=time.monotonic)
    stopped: float | None = None
    cold: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, processed: int = 0, failed: int = 0, dead: int = 0, requeued: int = 0) -> None:
        with self._lock:
            self.processed += processed
            self.failed += failed
            self.dead += dead
            self.requeued += requeued

    @property
    def elapsed(self) -> float:
        return (self.stopped or time.monotonic()) - self.started

    @property
    def rate(self) -> float:
        """Messages handled per second since the start."""
        return self.processed / self.elapsed if self.elapsed > 0 else 0.0

    def summary(self, depth: int | None = None) -> str:
        line = (
            f"processed {self.processed}  failed {self.failed}  dead {self.dead}  {self.rate:.1f}/s"
        )
        return line if depth is None else f"{line}  depth {depth}"


JobOutcome = Literal["ok", "retry", "dead"]
JOB_OUTCOMES: tuple[JobOutcome, ...] = ("ok", "retry", "dead")


class JobObserver(Protocol):
    """Hears what the runtime does with messages; called from its threads, must be quick."""

    def handled(self, seconds: float) -> None:
        """The handler returned or raised on one message after ``seconds``."""

    def settled(self, outcome: JobOutcome, count: int) -> None:
        """``count`` messages were acknowledged (ok), put back for a retry, or buried."""

    def running(self, up: bool) -> None:
        """The worker started taking messages (True), or is stopping (False)."""


class NoObserver:
    """The observer of a worker without metrics."""

    def handled(self, seconds: float) -> None:
        pass

    def settled(self, outcome: JobOutcome, count: int) -> None:
        pass

    def running(self, up: bool) -> None:
        pass


class StatusReporter(Protocol):
    """Called by the supervisor every ``interval`` seconds, and once at the end."""

    interval: float

    def report(self, name: str, stats: WorkerStats, depth: int | None) -> None: ...

    def finish(self, name: str, stats: WorkerStats) -> None: ...


class LogStatus:
    """Plain log lines, for journald, docker logs and files."""

    def __init__(self, interval: float = 10.0) -> None:
        self.interval = interval

    def report(self, name: str, stats: WorkerStats, depth: int | None) -> None:
        log.info("worker %s: %s", name, stats.summary(depth))

    def finish(self, name: str, stats: WorkerStats) -> None:
        log.info("worker %s stopped after %.1fs: %s", name, stats.elapsed, stats.summary())


class TtyStatus:
    """One line rewritten in place on an interactive terminal."""

    def __init__(self, stream: TextIO, interval: float = 0.5) -> None:
        self.stream = stream
        self.interval = interval

    def report(self, name: str, stats: WorkerStats, depth: int | None) -> None:
        line = stats.summary(depth)
        if depth is not None:
            line = f"{bar(stats.processed, stats.processed + depth)} {line}"
        self.stream.write(f"\r\x1b[K{name}: {line}")
        self.stream.flush()

    def finish(self, name: str, stats: WorkerStats) -> None:
        self.stream.write(f"\r\x1b[K{name}: {stats.summary()} in {stats.elapsed:.1f}s\n")
        self.stream.flush()


def bar(done: int, total: int, width: int = 20) -> str:
    """``[#####---------------]``: how much of what was seen so far is done (a burst's progress)."""
    filled = width if total <= 0 else min(width, width * done // total)
    return "[" + "#" * filled + "-" * (width - filled) + "]"


def default_status(stream: TextIO | None = None) -> StatusReporter:
    """A live line when ``stream`` (stderr by default) is a terminal, else log lines."""
    stream = sys.stderr if stream is None else stream
    return TtyStatus(stream) if stream.isatty() else LogStatus()
