"""What the Redis-backed listeners (queue and stream) share: one client, its
timeouts for the lease check, closing it, and saying "Redis is down" the way
the relay understands (``Unavailable``: pause, use no attempts).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import redis

from notifier.listeners import ListenerBase, Unavailable


class RedisClientListener(ListenerBase):
    """A listener that writes through one ``redis.Redis`` client of its own."""

    def __init__(self, client: redis.Redis, name: str, timeouts: Mapping[str, float]) -> None:
        self.client = client
        self.name = name
        self._timeouts = dict(timeouts)

    def timeouts(self) -> Mapping[str, float]:
        """A write waits at most for a pooled connection, then for Redis to answer."""
        return self._timeouts

    @contextmanager
    def down_is_unavailable(self, target: str) -> Iterator[None]:
        """Turn "Redis cannot be reached or did not answer in time" into Unavailable."""
        try:
            yield
        except (redis.ConnectionError, redis.TimeoutError) as error:
            raise Unavailable(f"{target}: {error}") from error

    def where(self) -> str:
        """The server, for ``repr`` and logs (never the password)."""
        kwargs = self.client.connection_pool.connection_kwargs
        place = kwargs.get("path") or f"{kwargs.get('host')}:{kwargs.get('port')}"
        return f"{place} db={kwargs.get('db', 0)}"

    def close(self) -> None:
        self.client.close()
        self.client.connection_pool.disconnect()
