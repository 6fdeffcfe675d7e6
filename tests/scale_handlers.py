"""The worker handler of the scale-out test, steered by environment variables.

NOTIFIER_TEST_SEEN_URL   the Redis to record on
NOTIFIER_TEST_SEEN_LIST  the list that gets "<record_id> <event_id>" per event handled
"""

from __future__ import annotations

import functools
import os

import redis

from notifier.delivery.events import ResourceChanged


@functools.cache
def _client() -> redis.Redis:
    return redis.Redis.from_url(os.environ["NOTIFIER_TEST_SEEN_URL"], socket_timeout=5)


def handle(event: ResourceChanged) -> None:
    record = event.payload["record_id"]
    _client().rpush(os.environ["NOTIFIER_TEST_SEEN_LIST"], f"{record} {event.event_id}")
