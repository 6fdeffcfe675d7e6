"""The stream listener: one XADD per event onto a Redis Stream, for live push.

The entry has one field, ``message``: the same JSON the Redis queue listener
pushes.  ``MAXLEN ~ maxlen`` keeps the stream to about the retained window
that push subscribers can replay (``notifier.push.retention``); trimming is
approximate so Redis trims whole nodes, cheaply.  Like the queue listener it
raises at once when Redis is down and leaves retries to the outbox relay.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import redis

from notifier.delivery.events import ResourceChanged
from notifier.listeners import listener_name
from notifier.listeners.redis_client import RedisClientListener
from notifier.queue import defaults
from notifier.queue.connection import client_from_section, redact
from notifier.settings import Section

log = logging.getLogger(__name__)

#: Keys this listener reads (the loader adds the dispatcher's filter keys).
SETTINGS_KEYS = OWN_KEYS = (
    "url",
    "stream",
    "maxlen",
    "pool_size",
    "pool_timeout",
    "socket_timeout",
)

#: The one field of each stream entry.
FIELD = "message"


class StreamListener(RedisClientListener):
    """XADD each event's message to ``stream``, trimmed to about ``maxlen`` entries."""

    def __init__(
        self,
        client: redis.Redis,
        stream: str,
        maxlen: int,
        name: str = "stream",
        timeouts: Mapping[str, float] | None = None,
    ) -> None:
        super().__init__(client, name, timeouts or {})
        self.stream = stream
        self.maxlen = maxlen

    def __call__(self, event: ResourceChanged) -> None:
        self.deliver([event])

    def deliver(self, events: Sequence[ResourceChanged]) -> None:
        """Append all events in order, in one MULTI/EXEC: all or none.

        Raises Unavailable when Redis is down, so the relay pauses this
        listener instead of using up attempts.
        """
        if not events:
            return
        with (
            self.down_is_unavailable(f"redis stream {self.stream!r}"),
            self.client.pipeline(transaction=len(events) > 1) as pipe,
        ):
            for event in events:
                pipe.xadd(
                    self.stream, {FIELD: event.to_json()}, maxlen=self.maxlen, approximate=True
                )
            pipe.execute()

    def heartbeat(self) -> dict[str, Any]:
        """For ``/v1/__heartbeat__``: Redis must answer."""
        try:
            self.client.ping()
        except redis.RedisError:
            return {"ok": False, "redis": False}
        return {"ok": True, "redis": True}

    def __repr__(self) -> str:
        return f"<StreamListener {self.name} {self.where()} {self.stream!r} maxlen~{self.maxlen}>"


def load_from_config(config: Any, prefix: str) -> StreamListener:
    """Build the listener from the settings under ``prefix``.

    Raises SettingsError naming the key for a bad URL or a ``maxlen`` that is
    not a positive integer; the loader refuses unknown keys (``SETTINGS_KEYS``).
    """
    settings = config.get_settings()
    section = Section(settings, prefix)
    client, timeouts = client_from_section(section)
    url = section.str("url")
    stream = section.str("stream", defaults.STREAM)
    maxlen = section.int("maxlen", defaults.STREAM_MAXLEN, minimum=1)
    name = listener_name(prefix)
    log.info("stream listener %s: %s stream %r maxlen~%d", name, redact(url), stream, maxlen)
    return StreamListener(client, stream, maxlen, name=name, timeouts=timeouts)
