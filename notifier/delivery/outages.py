"""Telling an outage from a failure, and what the relay does about one.

A target that is down (``Unavailable``, a refused connection, a timeout) says
nothing about the entry: the entry goes back to the outbox without using up
an attempt, and the listener pauses.  While it is paused the relay probes it
every ``PROBE_INTERVAL`` seconds with its oldest entry alone; the first probe
that goes through ends the pause and the rest follow in order.  Any other
exception is a failure of that entry, retried with backoff until the attempt
limit; ``Rejected`` is a dead letter at once.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from notifier.delivery.outcomes import Unavailable

log = logging.getLogger(__name__)

#: Seconds between probes of a paused listener: delivery resumes within about
#: this long (plus one delivery) of the target answering again.
PROBE_INTERVAL = 0.5


def is_outage(error: BaseException) -> bool:
    """Is ``error`` the target being down, rather than something wrong with the event?"""
    return isinstance(error, Unavailable | ConnectionError | TimeoutError)


@dataclass
class Outages:
    """The listeners this relay found down, and since when (monotonic seconds)."""

    since: dict[str, float] = field(default_factory=dict)

    def __contains__(self, name: object) -> bool:
        return name in self.since

    def __bool__(self) -> bool:
        return bool(self.since)

    def down(self, name: str, error: str) -> None:
        if name not in self.since:
            log.warning("listener %s is down (%s); pausing it and probing", name, error)
            self.since[name] = time.monotonic()

    def up(self, name: str) -> None:
        started = self.since.pop(name, None)
        if started is not None:
            log.warning(
                "listener %s answers again after %.1fs; resuming", name, time.monotonic() - started
            )
