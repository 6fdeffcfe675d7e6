"""One Redis connection kept for a listener's pushes, beside its client's pool.

A push through ``redis.Redis.rpush`` spent a third of its CPU time in
redis-py itself: taking a connection from the pool, giving it back, the
retry wrapper and the bookkeeping around them (155 us of CPU per request,
against 97 us on a kept connection; bench/, issue #7).  Requests on SQLite
take turns, so one connection serves nearly every push; a push that finds
it busy (concurrent requests on PostgreSQL) goes through the pool as before.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import redis


class PushConnection:
    """Sends commands on one kept connection, or through the pool when it is busy."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self._lock = threading.Lock()
        self._connection: redis.connection.AbstractConnection | None = None
        self._pid = os.getpid()

    def command(self, *args: Any) -> Any:
        """Run one command and return its reply; raises redis.RedisError like the client.

        As with the client (``notifier.queue.connection.connect``), a connection
        error is retried once at once: a kept connection goes stale when
        Redis restarts.
        """
        if not self._lock.acquire(blocking=False):
            return self.client.execute_command(*args)
        try:
            connection = self._kept()
            try:
                return self._send(connection, args)
            except (redis.ConnectionError, redis.TimeoutError):
                return self._send(connection, args)  # reconnects
        finally:
            self._lock.release()

    @staticmethod
    def _send(connection: redis.connection.AbstractConnection, args: tuple[Any, ...]) -> Any:
        try:
            connection.send_command(*args)
            return connection.read_response()
        except redis.ResponseError:
            raise  # Redis answered: the connection is still in step
        except BaseException:
            connection.disconnect()  # a reply may be left unread: start afresh next time
            raise

    def _kept(self) -> redis.connection.AbstractConnection:
        """The kept connection; a forked child makes its own rather than share the parent's."""
        if self._connection is None or self._pid != os.getpid():
            pool = self.client.connection_pool
            self._connection = pool.connection_class(**pool.connection_kwargs)
            self._pid = os.getpid()
        return self._connection

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.disconnect()
                self._connection = None
