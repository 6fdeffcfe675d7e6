"""The handler the latency benchmark runs: note when each event's handling starts."""

from __future__ import annotations

import os
import time

import redis

from notifier.delivery.events import ResourceChanged

_client: redis.Redis | None = None


def handle(event: ResourceChanged) -> None:
    started = time.time()
    global _client
    if _client is None:
        _client = redis.Redis.from_url(os.environ["LATENCY_REDIS_URL"])
    _client.hset(os.environ["LATENCY_HASH"], event.payload["record_id"], repr(started))
