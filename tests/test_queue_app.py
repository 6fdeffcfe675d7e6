"""The Redis listener inside the app: FIFO order, outages, and the heartbeat."""

from __future__ import annotations

import json

import pytest
import redis

from notifier.dev.redis_server import PrivateRedis
from notifier.queue.protocol import QueueKeys
from notifier.worker.housekeeping import heartbeat
from tests.eventing import ALICE, RECORDS, create_collection, make_app
from tests.helpers import wait_for

L = "notifier.event_listeners"
FAST_RETRIES = {
    "notifier.outbox.backoff_base": "0.001",
    "notifier.outbox.backoff_max": "0.001",
}


def queue_app(tmp_path, url, listname, **settings):
    return make_app(
        tmp_path,
        **{
            L: "queue",
            f"{L}.queue.use": "notifier.listeners.redis",
            f"{L}.queue.url": url,
            f"{L}.queue.listname": listname,
            f"{L}.queue.socket_timeout": "0.5",
            f"{L}.queue.resources": "record",
            **settings,
        },
    )


def queued(client, listname):
    return [json.loads(raw) for raw in client.lrange(listname, 0, -1)]


def test_a_batch_reaches_the_queue_in_order_one_message_per_event(
    tmp_path, redis_url, redis_client, listname
):
    app = queue_app(tmp_path, redis_url, listname)
    create_collection(app)
    requests = [
        {
            "method": "PUT",
            "path": f"/buckets/b/collections/c/records/r{n}",
            "body": {"data": {"n": n}},
        }
        for n in range(5)
    ]
    app.post_json("/v1/batch", {"requests": requests}, headers=ALICE)
    messages = [json.loads(redis_client.blpop([listname], timeout=5)[1]) for _ in range(5)]
    assert [m["record_id"] for m in messages] == [f"r{n}" for n in range(5)]
    assert redis_client.llen(listname) == 0
    first = messages[0]
    assert set(first) >= {
        "action",
        "uri",
        "resource_name",
        "user_id",
        "timestamp",
        "bucket_id",
        "collection_id",
        "record_id",
        "event_id",
        "impacted_objects",
    }
    assert first["impacted_objects"] == [
        {"new": {"id": "r0", "n": 0, "last_modified": first["timestamp"]}}
    ]


@pytest.fixture
def private_redis():
    server = PrivateRedis().start()
    yield server
    server.close()


@pytest.mark.slow  # a fault run: a private Redis stopped and started again
def test_writes_succeed_while_redis_is_down_and_every_event_arrives_in_order(
    tmp_path, private_redis, listname
):
    app = queue_app(tmp_path, private_redis.url, listname, **FAST_RETRIES)
    create_collection(app)
    put = lambda n: app.put_json(f"{RECORDS}/r{n}", {"data": {}}, headers=ALICE, status=201)  # noqa: E731
    for n in range(3):
        put(n)
    private_redis.stop()
    for n in range(3, 8):
        put(n)
    private_redis.start()
    put(8)  # Redis is back, but r3..r7 still wait: r8 must not overtake them
    client = redis.Redis.from_url(private_redis.url, socket_timeout=5)
    relay = app.app.registry.notifier.relay
    wait_for(lambda: relay.run_once() >= 0 and client.llen(listname) >= 6, timeout=20)
    assert [m["record_id"] for m in queued(client, listname)] == [f"r{n}" for n in range(3, 9)]
    put(9)  # the backlog is gone: back to delivery in the request
    assert queued(client, listname)[-1]["record_id"] == "r9"
    client.close()


def test_heartbeat_reports_redis_and_live_workers(tmp_path, redis_url, redis_client, listname):
    app = queue_app(tmp_path, redis_url, listname)
    assert app.get("/v1/__heartbeat__").json["queue"] == {
        "ok": True,
        "redis": True,
        "workers": False,
    }
    heartbeat(redis_client, QueueKeys(listname), ["w1"], '{"host": "test"}', ttl=5)
    assert app.get("/v1/__heartbeat__").json["queue"]["workers"] is True


def test_heartbeat_is_503_when_redis_is_down(tmp_path):
    from notifier.dev.redis_server import free_port

    app = queue_app(tmp_path, f"redis://127.0.0.1:{free_port()}/0", "q")
    response = app.get("/v1/__heartbeat__", status=503)
    queue = response.json["queue"]
    assert (queue["ok"], queue["redis"], queue["workers"]) == (False, False, False)
    assert queue["reason"].startswith("redis does not answer: ConnectionError: Error 111")
