"""One subscriber: a bounded queue of events, and why it ended.

The hub offers each event without waiting; a subscriber whose queue is full
is ended as a slow consumer, so nothing buffers without bound and one slow
client never holds up the others.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque

from notifier.push.events import Position, StreamEvent, Target

log = logging.getLogger(__name__)

SLOW = "slow consumer: more than {limit} events waited to be sent; reconnect with Last-Event-ID"


class Subscriber:
    """The events one connection still has to send, and the end it came to."""

    def __init__(
        self, target: Target, principals: tuple[str, ...], limit: int, owns_bucket: bool = False
    ) -> None:
        self.target = target
        #: A subscription through the ``default`` alias: the caller's own bucket.
        self.owns_bucket = owns_bucket
        self.principals = principals
        self.limit = limit
        self.pending: deque[StreamEvent] = deque()
        self.wake = asyncio.Event()
        self.ended: dict[str, str] | None = None
        #: Live events at or before this position were already sent by the replay.
        self.sent_up_to: Position = (0, 0)
        #: The hub asked for a keep-alive: nothing was sent for a while.
        self.ping = False
        self.quiet = True

    def offer(self, event: StreamEvent) -> None:
        if self.ended is not None or not self.target.wants(event):
            return
        if len(self.pending) >= self.limit:
            self.end("slow_consumer", SLOW.format(limit=self.limit))
            return
        self.pending.append(event)
        self.quiet = False
        self.wake.set()

    def keepalive(self) -> None:
        """Called by the hub every keep-alive interval: ping if nothing went out since."""
        if self.quiet:
            self.ping = True
            self.wake.set()
        self.quiet = True

    def end(self, error: str, message: str) -> None:
        """Stop delivering; the connection sends a final error event and closes."""
        if self.ended is None:
            self.ended = {"error": error, "message": message}
            self.pending.clear()
            if error == "slow_consumer":
                log.info("push: dropped a slow subscriber of %s", self.target.uri)
        self.wake.set()

    async def next_batch(self) -> list[StreamEvent]:
        """Wait for events, a keep-alive or the end; [] for a keep-alive or the end.

        No timer per wait: the hub's one keep-alive loop wakes quiet
        subscribers, so an event costs a subscriber one wake-up and one write.
        """
        if not self.pending and self.ended is None and not self.ping:
            await self.wake.wait()
        self.wake.clear()
        self.ping = False
        batch = [event for event in self.pending if event.position > self.sent_up_to]
        self.pending.clear()
        return batch
