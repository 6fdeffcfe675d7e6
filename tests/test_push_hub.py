"""The hub against real Redis, without a server: replay's window and odd entries."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
import redis.asyncio as aioredis

from notifier.push.events import parse_position
from notifier.push.hub import Hub, OutsideWindow
from tests.helpers import make_event


def hub_on(redis_url: str, stream: str, retention: int) -> Hub:
    client = aioredis.Redis.from_url(redis_url)
    return Hub(client, stream, retention, recheck_seconds=60, checker=lambda checks: {})


async def replayed(hub: Hub, since: str) -> list[str]:
    return [event.record_id or "" async for event in hub.replay(parse_position(since))]


def test_replay_stops_after_the_retention_with_a_message(redis_url, redis_client, listname):
    ids = [
        redis_client.xadd(listname, {"message": make_event(n).to_json()}).decode() for n in range(5)
    ]

    async def scenario() -> tuple[list[str], str]:
        hub = hub_on(redis_url, listname, retention=2)
        got: list[str] = []
        with pytest.raises(OutsideWindow) as error:
            async for event in hub.replay(parse_position(ids[0])):
                got.append(event.record_id or "")
        wide = hub_on(redis_url, listname, retention=10)
        everything = await replayed(wide, ids[0])
        await hub.client.aclose()
        await wide.client.aclose()
        return got + ["|"] + everything, str(error.value)

    got, message = asyncio.run(scenario())
    assert got == ["r1", "r2", "|", "r1", "r2", "r3", "r4"]
    assert message == (
        f"more than 2 events (notifier.push.retention) happened after position {ids[0]}"
    )


def test_entries_that_are_not_events_are_skipped_and_logged(
    redis_url, redis_client, listname, caplog
):
    first = redis_client.xadd(listname, {"message": make_event(0).to_json()}).decode()
    redis_client.xadd(listname, {"other": "field"})
    redis_client.xadd(listname, {"message": json.dumps({"no": "action"})})
    redis_client.xadd(listname, {"message": make_event(3).to_json()})
    caplog.set_level(logging.WARNING, logger="notifier.push")

    async def scenario() -> list[str]:
        hub = hub_on(redis_url, listname, retention=10)
        try:
            return await replayed(hub, first)
        finally:
            await hub.client.aclose()

    assert asyncio.run(scenario()) == ["r3"]
    assert caplog.text.count("is not an event message; skipped") == 2
