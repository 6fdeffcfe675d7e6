"""One subscriber: a bounded queue of events, and why it ended.

The hub offers each event without waiting; a subscriber whose queue is full
is ended as a slow consumer, so nothing buffers without bound and one slow
client never holds up the others.  The connection's handler is the
subscriber's one writer: it waits on a future the next offer resolves, so an
event costs a subscriber a deque append, one wake-up and one write, and no
timer.
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
        self,
        target: Target,
        principals: tuple[str, ...],
        limit: int,
        owns_bucket: bool = False,
        peer: str | None = None,
    ) -> None:
        self.target = target
        #: The client's address, for the logs.
        self.peer = peer
        #: A subscription through the ``default`` alias: the caller's own bucket.
        self.owns_bucket = owns_bucket
        self.principals = principals
        self.limit = limit
        self.pending: deque[StreamEvent] = deque()
        self.ended: dict[str, str] | None = None
        #: Live events at or before this position were already sent by the replay
        #: (None: no replay, or its overlap with the live events is past).
        self.sent_up_to: Position | None = None
        #: The hub asked for a keep-alive: nothing was sent for a while.
        self.ping = False
        self.quiet = True
        self._loop = asyncio.get_running_loop()
        self._waiter: asyncio.Future[None] | None = None

    def offer(self, event: StreamEvent) -> bool:
        """Queue ``event`` if the subscription wants it; True when it was queued."""
        if self.ended is not None or not self.target.wants(event):
            return False
        if len(self.pending) >= self.limit:
            self.end("slow_consumer", SLOW.format(limit=self.limit))
            return False
        self.pending.append(event)
        self.quiet = False
        self._wake()
        return True

    def keepalive(self) -> None:
        """Called by the hub every keep-alive interval: ping if nothing went out since."""
        if self.quiet:
            self.ping = True
            self._wake()
        self.quiet = True

    def end(self, error: str, message: str) -> None:
        """Stop delivering; the connection sends a final error event and closes."""
        if self.ended is None:
            self.ended = {"error": error, "message": message}
            self.pending.clear()
            if error == "slow_consumer":
                log.warning(
                    "push: dropped a slow subscriber of %s (client %s): %s",
                    self.target.uri,
                    self.peer,
                    message,
                )
        self._wake()

    def _wake(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def next_batch(self) -> list[StreamEvent]:
        """Wait for events, a keep-alive or the end; [] for a keep-alive or the end."""
        if not self.pending and self.ended is None and not self.ping:
            self._waiter = self._loop.create_future()
            await self._waiter
        self.ping = False
        batch = list(self.pending)
        self.pending.clear()
        if self.sent_up_to is not None and batch:
            if batch[0].position > self.sent_up_to:
                self.sent_up_to = None  # the live events are past the replay's: no more to skip
            else:
                batch = [event for event in batch if event.position > self.sent_up_to]
        return batch
