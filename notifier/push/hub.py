"""One XREAD loop per process, fanning out to subscribers; replay; rechecks.

The hub reads the stream from where it last was, offers each event to the
subscribers of its bucket (an index keeps fan-out cheap with many
subscribers), and never waits on one.  Replay reads the retained stream
from a position after the subscriber is registered, so the live events that
arrive meanwhile are kept, and those the replay already sent are skipped:
no gap, no duplicate.  Every ``recheck_seconds`` each subscription's read
permission is checked again, once per distinct (principals, object).

Redis may lose the stream (restarted without persistence, the key deleted):
positions then start again below ours, and XREAD after our position would
wait for ever.  About once a second the hub compares the stream with what it
read (``StreamMark``); when the stream is gone or went back, it reads the new
one from its start and ends every subscription with ``stream_reset``, as a
position outside the window does: the client resyncs with ``_since``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from notifier.push.events import (
    Position,
    StreamEvent,
    event_from_entry,
    format_position,
    parse_position,
)
from notifier.push.metrics import PushMetrics
from notifier.push.subscriber import Subscriber

log = logging.getLogger(__name__)

READ_COUNT = 1000
REPLAY_PAGE = 500
BLOCK_MS = 1000
BACKOFF_MAX = 5.0
#: How often the reader checks that the stream is still the one it reads.
CHECK_SECONDS = 1.0
RESET = (
    "the event stream was reset (Redis lost it, {why}): events may be missing;"
    " resync with _since, then subscribe from now"
)

Check = tuple[tuple[str, ...], str]
#: Answers, in a worker thread, which (principals, uri) pairs may still read.
Checker = Callable[[Iterable[Check]], dict[Check, bool]]


class OutsideWindow(Exception):
    """A replay position the stream no longer holds (or never did); the message says why."""


class Hub:
    """The stream reader and its subscribers, for one process."""

    def __init__(
        self,
        client: aioredis.Redis,
        stream: str,
        retention: int,
        recheck_seconds: float,
        checker: Checker,
        keepalive_seconds: float = 15.0,
        metrics: PushMetrics | None = None,
    ) -> None:
        self.metrics = PushMetrics() if metrics is None else metrics
        self.metrics.redis_up.set_function(lambda: 1.0 if self.redis_ok else 0.0)
        self.client = client
        self.stream = stream
        self.retention = retention
        self.recheck_seconds = recheck_seconds
        self.checker = checker
        self.keepalive_seconds = keepalive_seconds
        self.by_bucket: dict[str, set[Subscriber]] = defaultdict(set)
        self.last_id = "0-0"
        self.mark = StreamMark()
        self.redis_ok = False
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def subscribers(self) -> int:
        return sum(len(each) for each in self.by_bucket.values())

    async def start(self) -> None:
        """Start reading; the service answers (its heartbeat 503) while Redis does not."""
        self._tasks = [
            asyncio.create_task(self._read_loop(), name="push-xread"),
            asyncio.create_task(self._recheck_loop(), name="push-recheck"),
            asyncio.create_task(self._keepalive_loop(), name="push-keepalive"),
        ]

    def end_all(self) -> None:
        """End every subscription (the service is stopping), so each says so and closes."""
        for subscriber in [s for each in self.by_bucket.values() for s in each]:
            subscriber.end("shutdown", "the push service is stopping; reconnect with Last-Event-ID")

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.end_all()

    async def _newest_id(self) -> str:
        """Where "from now" starts; retried until Redis answers."""
        delay = 0.1
        while True:
            try:
                newest: Any = await self.client.xrevrange(self.stream, count=1)
                self.redis_ok = True
                return newest[0][0].decode() if newest else "0-0"
            except RedisError as error:
                log.warning("push: Redis unavailable (%s); retrying in %.1fs", error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, BACKOFF_MAX)

    async def now(self) -> Position | None:
        """The stream's newest position (where "from now" starts), or None if Redis fails.

        A subscriber registered before this read skips the events up to it
        that the reader had not yet got to: from now means from now, not from
        wherever the reader was.
        """
        try:
            newest: Any = await self.client.xrevrange(self.stream, count=1)
        except RedisError:
            return None
        return parse_position(newest[0][0].decode()) if newest else None

    def subscribe(self, subscriber: Subscriber) -> None:
        self.by_bucket[subscriber.target.bucket_id].add(subscriber)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        bucket = self.by_bucket.get(subscriber.target.bucket_id)
        if bucket is not None:
            bucket.discard(subscriber)
            if not bucket:
                del self.by_bucket[subscriber.target.bucket_id]

    def fan_out(self, event: StreamEvent) -> None:
        # No copy of the set: offer() never subscribes or unsubscribes anyone.
        queued = 0
        for subscriber in self.by_bucket.get(event.bucket_id or "", ()):
            queued += subscriber.offer(event)
        self.metrics.stream_events.inc()
        if queued:
            self.metrics.fanout.inc(queued)

    async def _read_loop(self) -> None:
        self.last_id = await self._newest_id()
        delay, checked = 0.1, 0.0
        while True:
            try:
                if time.monotonic() - checked >= CHECK_SECONDS:
                    await self._check_stream()
                    checked = time.monotonic()
                reply: Any = await self.client.xread(
                    {self.stream: self.last_id}, count=READ_COUNT, block=BLOCK_MS
                )
            except RedisError as error:
                self.redis_ok = False
                log.warning(
                    "push: XREAD on %r failed (%s); retrying in %.1fs", self.stream, error, delay
                )
                await asyncio.sleep(delay)
                delay, checked = min(delay * 2, BACKOFF_MAX), 0.0  # Redis may have restarted
                continue
            self.redis_ok, delay = True, 0.1
            for _stream, entries in reply or ():
                for entry_id, fields in entries:
                    self.last_id = entry_id.decode()
                    event = event_from_entry(self.last_id, fields)
                    self.mark.saw(event.position if event else parse_position(self.last_id))
                    if event is not None:
                        self.fan_out(event)

    async def _check_stream(self) -> None:
        """Start again from the stream's beginning if Redis lost the one we read."""
        why = self.mark.lost(await stream_info(self.client, self.stream), self.last_id)
        if why is None:
            return
        log.warning(
            "push: the stream %r was reset (%s, we had read up to %s): reading it from its"
            " start; %d subscribers told to resync",
            self.stream,
            why,
            self.last_id,
            self.subscribers,
        )
        self.last_id = "0-0"
        for subscriber in [s for each in self.by_bucket.values() for s in each]:
            subscriber.end("stream_reset", RESET.format(why=why))

    async def _keepalive_loop(self) -> None:
        while True:
            await asyncio.sleep(self.keepalive_seconds)
            for subscriber in [s for each in self.by_bucket.values() for s in each]:
                subscriber.keepalive()

    async def _recheck_loop(self) -> None:
        while True:
            await asyncio.sleep(self.recheck_seconds)
            await self.recheck()

    async def recheck(self) -> None:
        """End the subscriptions whose read permission was revoked."""
        current = [s for each in self.by_bucket.values() for s in each]
        current = [s for s in current if not s.owns_bucket]
        checks = {(s.principals, s.target.uri) for s in current}
        if not checks:
            return
        try:
            allowed = await asyncio.to_thread(self.checker, checks)
        except Exception:
            log.exception("push: permission recheck failed; subscriptions kept until the next")
            return
        for subscriber in current:
            if not allowed.get((subscriber.principals, subscriber.target.uri), False):
                subscriber.end(
                    "forbidden",
                    f"read permission on {subscriber.target.uri} was revoked",
                )

    async def replay(self, since: Position) -> AsyncIterator[StreamEvent]:
        """The retained events after ``since``, oldest first.

        Raises OutsideWindow before yielding anything when events after
        ``since`` were trimmed away, or ``since`` is ahead of the stream; and
        after ``retention`` events when there are more (the window is full).
        """
        await self._check_window(since)
        start, sent = "(" + format_position(since), 0
        while True:
            page: Any = await self.client.xrange(self.stream, min=start, count=REPLAY_PAGE)
            for entry_id, fields in page:
                sent += 1
                if sent > self.retention:
                    raise OutsideWindow(
                        f"more than {self.retention} events (notifier.push.retention) happened"
                        f" after position {format_position(since)}"
                    )
                event = event_from_entry(entry_id, fields)
                if event is not None:
                    yield event
            if len(page) < REPLAY_PAGE:
                return
            start = "(" + page[-1][0].decode()

    async def _check_window(self, since: Position) -> None:
        """Refuse a position ahead of the stream, or one whose successors may be gone.

        Redis says how many entries were ever added and how many remain: when
        some were removed (trimmed by MAXLEN, or deleted), a position older
        than the oldest entry kept may have lost its successors.
        """
        info = await stream_info(self.client, self.stream) or {}
        last = _position(info.get("last-generated-id"))
        if since > last:
            raise OutsideWindow(f"position {format_position(since)} is ahead of the stream")
        first_entry = info.get("first-entry")
        oldest = _position(first_entry[0]) if first_entry else None
        removed = int(info.get("entries-added", 1 + int(info.get("length", 0)))) > int(
            info.get("length", 0)
        )
        if removed and since < (oldest or last):
            kept = format_position(oldest) if oldest else "none"
            raise OutsideWindow(
                f"events after position {format_position(since)} are no longer retained"
                f" (the oldest retained is {kept})"
            )


def _position(raw: Any) -> Position:
    if raw is None:
        return (0, 0)
    text = raw.decode() if isinstance(raw, bytes) else str(raw)
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


async def stream_info(client: aioredis.Redis, stream: str) -> dict[Any, Any] | None:
    """XINFO STREAM, or None when the key does not exist."""
    try:
        info: dict[Any, Any] = await client.xinfo_stream(stream)
    except RedisError as error:
        if "no such key" not in str(error).lower():
            raise
        return None
    return info


class StreamMark:
    """What the reader knows of its stream, to tell the same stream from a new one.

    A stream's last generated id and its count of entries ever added only
    grow (trimming and XDEL change neither); a stream that Redis lost and
    began again has a lower one, or none at all.  The count is what XINFO
    said at the last check plus the entries read since that are newer than
    its last id, so a new stream with fewer entries than the old one had is
    noticed even when its ids are above ours.  (``entries-added`` is Redis
    7's; before, only the ids are compared.)
    """

    def __init__(self) -> None:
        self.added = 0
        self.newest: Position = (0, 0)

    def saw(self, position: Position) -> None:
        """The reader read the entry at ``position``."""
        if position > self.newest:
            self.added += 1
            self.newest = position

    def lost(self, info: dict[Any, Any] | None, last_id: str) -> str | None:
        """Why the stream is not the one read up to ``last_id``; None when it is."""
        if info is None:
            self.added, self.newest = 0, (0, 0)
            return None if last_id == "0-0" else "the stream key is gone"
        added = int(info.get("entries-added", 0))
        newest = _position(info.get("last-generated-id"))
        if newest < _position(last_id):
            why = f"its last id {format_position(newest)} is behind ours"
        elif "entries-added" in info and added < self.added:
            why = f"it counts {added} entries ever added, fewer than the {self.added} we know of"
        else:
            why = None
        self.added, self.newest = added, newest
        return why
