"""The stream listener: XADD of the queue's JSON, trimmed, through the outbox."""

from __future__ import annotations

import json
import time

import pytest
import redis

from notifier.dev.redis_server import PrivateRedis, free_port
from notifier.listeners import Unavailable
from notifier.listeners.stream import StreamListener
from notifier.settings import SettingsError
from tests.eventing import ALICE, RECORDS, create_collection, make_app
from tests.helpers import Settings, load_as_the_ini_does, make_event, wait_for

PREFIX = "notifier.event_listeners.stream."
L = "notifier.event_listeners"


def listener(**settings: str) -> StreamListener:
    config = Settings({PREFIX + k: v for k, v in settings.items()})
    return load_as_the_ini_does(config, PREFIX, "notifier.listeners.stream")


def entries(client: redis.Redis, stream: str) -> list[dict]:
    return [json.loads(fields[b"message"]) for _, fields in client.xrange(stream)]


def test_each_event_is_one_entry_holding_the_queue_message(redis_url, redis_client, listname):
    sink = listener(url=redis_url, stream=listname)
    sink(make_event(0))
    sink.deliver([make_event(n) for n in range(1, 4)])
    sink.close()
    raw = redis_client.xrange(listname)
    assert [set(fields) for _, fields in raw] == [{b"message"}] * 4
    assert raw[0][1][b"message"].decode() == make_event(0).to_json()
    assert [m["event_id"] for m in entries(redis_client, listname)] == [f"ev-{n}" for n in range(4)]


def test_maxlen_trims_the_stream_approximately(redis_url, redis_client, listname):
    sink = listener(url=redis_url, stream=listname, maxlen="10")
    for n in range(0, 1000, 100):
        sink.deliver([make_event(k) for k in range(n, n + 100)])
    # Approximate trimming removes whole nodes (100 entries each by default).
    assert 10 <= redis_client.xlen(listname) <= 200
    assert entries(redis_client, listname)[-1]["event_id"] == "ev-999"


def test_defaults(redis_url):
    sink = listener(url=redis_url, use="notifier.listeners.stream", resources="record")
    assert (sink.stream, sink.maxlen) == ("eventstream", 100_000)
    assert sink.heartbeat() == {"ok": True, "redis": True}
    assert repr(sink).endswith("'eventstream' maxlen~100000>")


def test_redis_down_raises_at_once():
    sink = listener(url=f"redis://127.0.0.1:{free_port()}/0", socket_timeout="0.5")
    started = time.monotonic()
    # Unavailable: the relay pauses the listener without using up attempts.
    with pytest.raises(Unavailable, match="redis stream 'eventstream': .*Connection refused"):
        sink(make_event(1))
    with pytest.raises(Unavailable, match="Connection refused"):
        sink.deliver([make_event(2), make_event(3)])
    assert sink.heartbeat() == {"ok": False, "redis": False}
    assert time.monotonic() - started < 3.0


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({}, PREFIX + "url: is required"),
        (
            {"url": "redis://localhost", "maxlen": "lots"},
            PREFIX + "maxlen: expected a positive integer (got 'lots')",
        ),
        (
            {"url": "redis://localhost", "maxlen": "0"},
            PREFIX + "maxlen: expected a positive integer (got '0')",
        ),
        (
            {"url": "redis://localhost", "steam": "s"},
            PREFIX + "steam: unknown setting (did you mean 'stream'?); accepted here: actions,"
            " buckets, collections, ids, maxlen, pool_size, pool_timeout, resources,"
            " socket_timeout, stream, url, use",
        ),
    ],
)
def test_bad_settings_name_key_value_and_accepted(settings, message):
    with pytest.raises(SettingsError) as error:
        listener(**settings)
    assert str(error.value) == message


def stream_app(tmp_path, url, stream, **settings):
    return make_app(
        tmp_path,
        **{
            L: "stream",
            f"{L}.stream.use": "notifier.listeners.stream",
            f"{L}.stream.url": url,
            f"{L}.stream.stream": stream,
            f"{L}.stream.socket_timeout": "0.5",
            "notifier.outbox.backoff_base": "0.001",
            "notifier.outbox.backoff_max": "0.001",
            **settings,
        },
    )


def test_app_writes_reach_the_stream_in_commit_order(tmp_path, redis_url, redis_client, listname):
    app = stream_app(tmp_path, redis_url, listname)
    create_collection(app)
    for n in range(3):
        app.put_json(f"{RECORDS}/r{n}", {"data": {"n": n}}, headers=ALICE, status=201)
    messages = entries(redis_client, listname)
    assert [m["resource_name"] for m in messages] == ["bucket", "collection"] + ["record"] * 3
    assert [m.get("record_id") for m in messages[2:]] == ["r0", "r1", "r2"]
    assert messages[-1]["impacted_objects"][0]["new"]["n"] == 2


def test_events_written_while_redis_is_down_arrive_in_order_through_the_outbox(tmp_path, listname):
    server = PrivateRedis().start()
    try:
        app = stream_app(tmp_path, server.url, listname)
        create_collection(app)
        server.stop()
        for n in range(3):
            app.put_json(f"{RECORDS}/r{n}", {"data": {}}, headers=ALICE, status=201)
        server.start()
        client = redis.Redis.from_url(server.url, socket_timeout=5)
        relay = app.app.registry.notifier.relay
        # The private server keeps nothing across its restart: only r0..r2 are new.
        wait_for(lambda: relay.run_once() >= 0 and client.xlen(listname) >= 3, timeout=20)
        assert [m.get("record_id") for m in entries(client, listname)] == ["r0", "r1", "r2"]
        client.close()
    finally:
        server.close()
