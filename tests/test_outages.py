"""Outages and the truth of the heartbeat: a target that is down, rejects, and old entries.

Redis is a private server of each test (``PrivateRedis``), stopped and
started again; the shared one is never touched.
"""

from __future__ import annotations

import json
import socket
import time

import pytest
import redis

from notifier.dev.redis_server import PrivateRedis
from notifier.queue.protocol import QueueKeys
from notifier.settings import SettingsError
from notifier.storage import transaction
from notifier.worker.housekeeping import heartbeat
from tests.eventing import ALICE, RECORDS, app_factory, create_collection, listener
from tests.helpers import wait_for

L = "notifier.event_listeners"


@pytest.fixture
def make(tmp_path, backend_settings):
    yield from app_factory(tmp_path, backend_settings)


@pytest.fixture
def private_redis():
    server = PrivateRedis(persistent=True).start()
    yield server
    server.close()


def outbox(app):
    with transaction(app.app.registry.notifier.storage, write=False) as session:
        return session.outbox_stats(), session.outbox_dead(100)


def redis_settings(url: str, listname: str) -> dict[str, str]:
    return {
        L: "queue",
        f"{L}.queue.use": "notifier.listeners.redis",
        f"{L}.queue.url": url,
        f"{L}.queue.listname": listname,
        f"{L}.queue.socket_timeout": "0.5",
        f"{L}.queue.pool_timeout": "0.5",
        f"{L}.queue.resources": "record",
    }


def test_an_outage_uses_no_attempts_keeps_order_and_resumes_within_2s(
    make, private_redis, listname, monkeypatch
):
    """On the old main, every entry used an attempt per failed try and, after the
    limit, became a dead letter; delivery resumed only when a backoff expired."""
    app = make(
        "",
        **redis_settings(private_redis.url, listname),
        **{"notifier.outbox.max_attempts": "2", "notifier.relay.in_process": "true"},
    )
    sink = listener(app, "queue")
    tries = []
    original = sink.deliver
    monkeypatch.setattr(sink, "deliver", lambda events: tries.append(1) or original(events))
    create_collection(app)
    put = lambda n: app.put_json(f"{RECORDS}/r{n}", {"data": {}}, headers=ALICE, status=201)  # noqa: E731
    put(0)
    private_redis.stop()
    # Hold the port while Redis is down (bound, not listening: connections are
    # refused), so no other test's server can start on it meanwhile.
    holder = socket.socket()
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holder.bind(("127.0.0.1", private_redis.port))
    try:
        for n in range(1, 6):
            put(n)
        wait_for(lambda: len(tries) >= 6, timeout=30)  # the relay probed several times
        stats, dead = outbox(app)
    finally:
        holder.close()
    assert (stats.backlog, dead) == (5, [])
    private_redis.start()
    back = time.monotonic()
    client = redis.Redis.from_url(private_redis.url, socket_timeout=5)
    wait_for(lambda: client.llen(listname) == 6, timeout=10)
    assert time.monotonic() - back < 2.0
    messages = [json.loads(m) for m in client.lrange(listname, 0, -1)]
    assert [m["record_id"] for m in messages] == [f"r{n}" for n in range(6)]
    client.close()
    wait_for(lambda: outbox(app)[0].backlog == 0)  # the relay deletes after it pushed


def test_rejected_is_a_dead_letter_at_once_and_only_the_rejected_one(make):
    app = make(
        "",
        **{
            L: "picky",
            f"{L}.picky.use": "tests.listeners.rejecting",
            f"{L}.picky.reject": "bad",
            f"{L}.picky.resources": "record",
            "notifier.outbox.backoff_base": "0.001",
            "notifier.outbox.backoff_max": "0.001",
        },
    )
    create_collection(app)
    app.put_json(f"{RECORDS}/bad", {"data": {}}, headers=ALICE, status=201)
    [dead] = outbox(app)[1]
    assert (dead.attempts, dead.last_error) == (1, "Rejected: record bad is refused")
    requests = [
        {"method": "PUT", "path": f"/buckets/b/collections/c/records/{i}", "body": {"data": {}}}
        for i in ("bad", "good")
    ]
    app.post_json("/v1/batch", {"requests": requests}, headers=ALICE, status=200)
    relay = app.app.registry.notifier.relay
    wait_for(lambda: relay.run_once() or outbox(app)[0].backlog == 0)
    assert [e.payload["record_id"] for e in listener(app, "picky").events] == ["good"]
    assert len(outbox(app)[1]) == 2


def test_entries_older_than_the_retention_are_dead_letters(make):
    app = make(
        "rec",
        **{
            f"{L}.rec.fail_first": "1000",
            "notifier.outbox.lease": "0.05",
            "notifier.outbox.retention": "0.3",
            "notifier.outbox.backoff_base": "60",
        },
    )
    app.put_json("/v1/buckets/b", {}, headers=ALICE, status=201)
    relay = app.app.registry.notifier.relay
    wait_for(lambda: relay.run_once() >= 0 and outbox(app)[1])
    [dead] = outbox(app)[1]
    assert dead.last_error == "older than notifier.outbox.retention (0.3 s)"
    assert dead.attempts == 1


def test_a_retention_not_longer_than_the_lease_names_both_keys(make):
    with pytest.raises(SettingsError) as error:
        make("rec", **{"notifier.outbox.lease": "60", "notifier.outbox.retention": "30"})
    assert str(error.value) == (
        "notifier.outbox.retention: must be longer than notifier.outbox.lease (60 s), or"
        " entries would be dead letters while they are being delivered (got '30')"
    )


def test_heartbeat_is_503_with_the_reason_for_an_old_backlog(make):
    app = make(
        "rec",
        **{f"{L}.rec.fail_first": "1000", "notifier.heartbeat.max_backlog_age": "0.05"},
    )
    app.put_json("/v1/buckets/b", {}, headers=ALICE, status=201)
    time.sleep(0.1)  # the one wait this test is about: the entry grows older than 0.05 s
    body = app.get("/v1/__heartbeat__", status=503).json["outbox"]
    assert body["ok"] is False and body["backlog"] == 1
    [reason] = body["reasons"]
    assert reason.startswith("listener rec: its oldest pending event is 0.")
    assert reason.endswith(" s old (notifier.heartbeat.max_backlog_age = 0.05 s)")


@pytest.mark.parametrize(("fail", "status"), [("true", 503), ("false", 200)])
def test_heartbeat_and_dead_letters(make, fail, status):
    app = make(
        "rec",
        **{
            f"{L}.rec.fail_first": "1000",
            "notifier.outbox.max_attempts": "1",
            "notifier.heartbeat.dead_letters_fail": fail,
        },
    )
    app.put_json("/v1/buckets/b", {}, headers=ALICE, status=201)
    body = app.get("/v1/__heartbeat__", status=status).json["outbox"]
    assert body["dead"] == 1
    if fail == "true":
        assert body["reasons"] == [
            "1 dead letter(s): see notifier outbox dead"
            " (notifier.heartbeat.dead_letters_fail = true)"
        ]


def test_heartbeat_is_503_without_a_live_worker_when_one_is_required(make, redis_url, listname):
    settings = redis_settings(redis_url, listname)
    app = make("", **settings, **{f"{L}.queue.require_workers": "true"})
    queue = app.get("/v1/__heartbeat__", status=503).json["queue"]
    assert queue["reason"] == f"no live worker takes from {listname!r} (require_workers)"
    client = redis.Redis.from_url(redis_url, socket_timeout=5)
    heartbeat(client, QueueKeys(listname), ["w1"], '{"host": "test"}', ttl=5)
    client.close()
    assert app.get("/v1/__heartbeat__", status=200).json["queue"]["workers"] is True


def test_a_stalled_redis_makes_the_heartbeat_fail_fast_not_wait(make, listname):
    """A Redis that accepts connections and never answers: on the old main the
    heartbeat took the whole socket timeout (4 s), holding its request."""
    stalled = socket.socket()
    stalled.bind(("127.0.0.1", 0))
    stalled.listen(16)  # the kernel completes connections nobody ever reads from
    url = f"redis://127.0.0.1:{stalled.getsockname()[1]}/0"
    try:
        settings = redis_settings(url, listname)
        settings[f"{L}.queue.socket_timeout"] = "2"
        app = make("", **settings, **{"notifier.heartbeat.timeout": "0.3"})
        started = time.monotonic()
        body = app.get("/v1/__heartbeat__", status=503).json
        assert time.monotonic() - started < 1.5
        assert body["queue"] == {"ok": False, "reason": "no answer within 0.3 s"}
        assert body["storage"] is True
    finally:
        stalled.close()
