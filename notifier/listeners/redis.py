"""The Redis listener: one JSON message per event, RPUSHed onto a list.

A plain ``BLPOP`` consumer gets events in commit order; the reliable worker
runtime (``notifier.worker``) claims them with ``BLMOVE``.  When Redis is down
the listener raises at once and the outbox relay retries later, so sockets
have short timeouts and there is no retry loop here.
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
from notifier.queue.durability import warn_if_not_durable
from notifier.queue.protocol import worker_alive
from notifier.settings import Section

log = logging.getLogger(__name__)

#: Keys this listener reads (the loader adds the dispatcher's filter keys).
OWN_KEYS = ("url", "pool_size", "pool_timeout", "socket_timeout", "listname", "require_workers")
SETTINGS_KEYS = OWN_KEYS

#: Values per RPUSH inside one MULTI, so a big cascade is not one huge command.
PUSH_CHUNK = 1000


class RedisListener(RedisClientListener):
    """RPUSH each event's message onto ``listname``."""

    def __init__(
        self,
        client: redis.Redis,
        listname: str,
        name: str = "redis",
        timeouts: Mapping[str, float] | None = None,
        require_workers: bool = False,
    ) -> None:
        super().__init__(client, name, timeouts or {})
        self.require_workers = require_workers
        self.listname = listname

    def __call__(self, event: ResourceChanged) -> None:
        self.deliver([event])

    def deliver(self, events: Sequence[ResourceChanged]) -> None:
        """Push all events, all or nothing, in order.

        Raises Unavailable when Redis cannot be reached or does not answer in
        time, so the relay pauses this listener instead of using up attempts.
        """
        with self.down_is_unavailable(f"redis list {self.listname!r}"):
            self._push(events)

    def _push(self, events: Sequence[ResourceChanged]) -> None:
        """Up to PUSH_CHUNK messages go in one RPUSH, atomic by itself; only a
        bigger cascade needs MULTI/EXEC, whose extra replies cost a request
        about 60 us on loopback."""
        if not events:
            return
        messages = [event.to_json() for event in events]
        if len(messages) <= PUSH_CHUNK:
            self.client.rpush(self.listname, *messages)
            return
        with self.client.pipeline(transaction=True) as pipe:
            for start in range(0, len(messages), PUSH_CHUNK):
                pipe.rpush(self.listname, *messages[start : start + PUSH_CHUNK])
            pipe.execute()

    def ping(self) -> bool:
        """True when Redis answers; raises redis.RedisError when it does not."""
        return bool(self.client.ping())

    def heartbeat(self) -> dict[str, Any]:
        """For ``/v1/__heartbeat__``: Redis must answer; a live worker is reported,
        and required when ``require_workers`` is set."""
        try:
            self.ping()
        except redis.RedisError as error:
            reason = f"redis does not answer: {type(error).__name__}: {error}"[:200]
            return {"ok": False, "redis": False, "workers": False, "reason": reason}
        workers = worker_alive(self.client, self.listname)
        result: dict[str, Any] = {"ok": True, "redis": True, "workers": workers}
        if self.require_workers and not workers:
            result["ok"] = False
            result["reason"] = f"no live worker takes from {self.listname!r} (require_workers)"
        return result

    def __repr__(self) -> str:
        return f"<RedisListener {self.name} {self.where()} {self.listname!r}>"


def load_from_config(config: Any, prefix: str) -> RedisListener:
    """Build the listener from the settings under ``prefix``.

    Raises SettingsError naming the key for a bad URL scheme, pool size or
    timeout; the loader refuses unknown keys (``SETTINGS_KEYS``).
    """
    settings = config.get_settings()
    section = Section(settings, prefix)
    client, timeouts = client_from_section(section)
    url = section.str("url")
    listname = section.str("listname", defaults.LISTNAME)
    name = listener_name(prefix)
    log.info("redis listener %s: %s list %r", name, redact(url), listname)
    warn_if_not_durable(client, name, redact(url))
    require_workers = section.bool("require_workers", False)
    return RedisListener(
        client, listname, name=name, timeouts=timeouts, require_workers=require_workers
    )
