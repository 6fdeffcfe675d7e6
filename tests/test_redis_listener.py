from __future__ import annotations

import json
import logging
import time

import pytest
import redis

from notifier.dev.redis_server import free_port
from notifier.listeners import Unavailable
from notifier.listeners.redis import RedisListener
from notifier.settings import SettingsError
from tests.helpers import Settings, load_as_the_ini_does, make_event, read_lines, start, stop

PREFIX = "notifier.event_listeners.redis."


def listener(**settings: str) -> RedisListener:
    config = Settings({PREFIX + k: v for k, v in settings.items()})
    return load_as_the_ini_does(config, PREFIX, "notifier.listeners.redis")


def test_deliver_pushes_one_message_per_event_in_order(redis_url, redis_client, listname):
    events = [make_event(n) for n in range(2500)]  # more than one RPUSH chunk
    sink = listener(url=redis_url, listname=listname)
    sink(make_event(-1))
    sink.deliver(events)
    sink.close()
    messages = [json.loads(m) for m in redis_client.lrange(listname, 0, -1)]
    assert [m["event_id"] for m in messages] == ["ev--1"] + [f"ev-{n}" for n in range(2500)]


def test_message_is_the_payload_with_impacted_objects(redis_url, redis_client, listname):
    event = make_event(7, action="update")
    listener(url=redis_url, listname=listname)(event)
    message = json.loads(redis_client.lpop(listname))
    assert set(message) == set(event.payload) | {"impacted_objects"}
    assert message["action"] == "update"
    assert message["record_id"] == "r7"
    assert message["impacted_objects"] == [{"new": event.impacted_objects[0]["new"]}]


def test_a_connection_closed_by_redis_is_replaced_within_the_push(
    redis_url, redis_client, listname
):
    sink = listener(url=redis_url, listname=listname)
    sink(make_event(1))
    name = f"listener-{listname}"  # unique to this test
    sink.client.client_setname(name)
    [client_id] = [c["id"] for c in redis_client.client_list() if c["name"] == name]
    redis_client.client_kill_filter(_id=client_id)  # as when Redis restarts
    sink(make_event(2))  # the pool's one immediate retry reconnects
    sink.close()
    messages = [json.loads(m) for m in redis_client.lrange(listname, 0, -1)]
    assert [m["event_id"] for m in messages] == ["ev-1", "ev-2"]


def test_defaults_and_filter_keys_are_left_to_the_dispatcher(redis_url, redis_client):
    sink = listener(
        url=redis_url,
        use="notifier.listeners.redis",
        actions="create",
        resources="record",
        buckets="b",
        collections="c",
        ids="r1",
    )
    assert sink.listname == "eventqueue"
    assert sink.client.connection_pool.max_connections == 10
    assert sink.client.connection_pool.timeout == 5.0
    assert sink.ping() is True


def test_redis_down_raises_at_once():
    sink = listener(url=f"redis://127.0.0.1:{free_port()}/0")
    started = time.monotonic()
    with pytest.raises(Unavailable, match="Connection refused"):
        sink(make_event(1))
    with pytest.raises(Unavailable, match="Connection refused"):
        sink.deliver([make_event(2), make_event(3)])
    with pytest.raises(redis.ConnectionError):
        sink.ping()
    assert time.monotonic() - started < 2.0


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"url": "http://:hunter2@example.com/0"},
            PREFIX + "url: expected a Redis URL starting with redis://, rediss://, unix://"
            " (got 'http://:***@example.com/0')",
        ),
        ({}, PREFIX + "url: is required"),
        (
            {"url": "redis://localhost", "pool_size": "ten"},
            PREFIX + "pool_size: expected a positive integer (got 'ten')",
        ),
        (
            {"url": "redis://localhost", "pool_size": "0"},
            PREFIX + "pool_size: expected a positive integer (got '0')",
        ),
        (
            {"url": "redis://localhost", "pool_timeout": "-1"},
            PREFIX + "pool_timeout: expected a number >= 0 (got '-1')",
        ),
        (
            {"url": "redis://localhost", "listnme": "q"},
            PREFIX + "listnme: unknown setting (did you mean 'listname'?); accepted here: actions,"
            " buckets, collections, ids, listname, pool_size, pool_timeout, require_workers,"
            " resources, socket_timeout, url, use",
        ),
    ],
)
def test_bad_settings_name_key_value_and_accepted(settings, message):
    with pytest.raises(SettingsError) as error:
        listener(**settings)
    assert str(error.value) == message


def test_password_is_never_logged(redis_url, caplog):
    caplog.set_level(logging.INFO, logger="notifier")
    url = redis_url.replace("redis://", "redis://:s3cret@")
    listener(url=url, listname="x").close()
    assert "s3cret" not in caplog.text
    assert "redis://:***@" in caplog.text


def test_plain_blpop_consumer_prints_events_in_order(redis_url, listname):
    sink = listener(url=redis_url, listname=listname)
    consumer = start(["workers/print_events.py", redis_url, listname])
    try:
        sink.deliver([make_event(n) for n in range(3)])
        lines = read_lines(consumer, 3)
    finally:
        stop(consumer)
    assert lines == [f"create /buckets/b/collections/c/records/r{n} ev-{n}\n" for n in range(3)]
