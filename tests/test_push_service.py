"""The real push process against real Redis and a real API server."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import threading
import time
import uuid
from dataclasses import dataclass

import aiohttp
import pytest
import redis

from tests.conftest import ALICE, ALICE_ID, BOB, BOB_ID
from tests.helpers import Process, wait_for
from tests.push_helpers import SSE, api_call, push_stack


@dataclass
class Scene:
    """The module's push process and API, and a bucket of this test's own."""

    api: str
    push: str
    process: Process
    bucket: str

    @property
    def c(self) -> str:
        return f"/buckets/{self.bucket}/collections/c"

    @property
    def events(self) -> str:
        return f"/v1{self.c}/events"


@pytest.fixture(scope="module")
def shared_stack(tmp_path_factory, redis_url):
    """One push process and API for the module: starting them is most of a test's time."""
    stream = f"test-push-{uuid.uuid4().hex[:12]}"
    settings = {"notifier.push.queue_size": "20"}
    with push_stack(tmp_path_factory.mktemp("push"), redis_url, stream, **settings) as s:
        yield s, stream
    client = redis.Redis.from_url(redis_url)
    client.delete(stream)
    client.close()


@pytest.fixture
def stack(shared_stack):
    shared, _ = shared_stack
    scene = Scene(shared.api, shared.push, shared.process, f"b{uuid.uuid4().hex[:8]}")
    api_call(scene.api, "PUT", f"/buckets/{scene.bucket}", ALICE, {})
    api_call(scene.api, "PUT", scene.c, ALICE, {})
    return scene


def put_record(stack, n, headers=ALICE, **data):
    api_call(stack.api, "PUT", f"{stack.c}/records/r{n}", headers, {"data": {"n": n, **data}})


def test_events_arrive_in_commit_order_as_the_queue_json(stack):
    sse = SSE(stack.push, stack.events, ALICE)
    assert sse.status == 200
    assert sse.response.getheader("Content-Type") == "text/event-stream"
    for n in range(5):
        put_record(stack, n)
    api_call(stack.api, "DELETE", f"{stack.c}/records/r0", ALICE)
    events = sse.take(6)
    sse.close()
    assert [e["event"] for e in events] == ["create"] * 5 + ["delete"]
    assert [e["data"]["record_id"] for e in events] == [f"r{n}" for n in range(5)] + ["r0"]
    ids = [tuple(map(int, e["id"].split("-"))) for e in events]
    assert ids == sorted(ids) and len(set(ids)) == 6
    first = events[0]["data"]
    assert first["uri"] == f"{stack.c}/records/r0" and first["user_id"] == ALICE_ID
    assert first["impacted_objects"][0]["new"]["n"] == 0
    assert set(first) >= {"action", "resource_name", "timestamp", "event_id", "bucket_id"}


def test_bucket_subscription_covers_everything_below_and_filters_apply(stack):
    everything = SSE(stack.push, f"/v1/buckets/{stack.bucket}/events", ALICE)
    records = SSE(
        stack.push, f"/v1/buckets/{stack.bucket}/events?action=update&resource_name=record", ALICE
    )
    one = SSE(stack.push, stack.events.replace("/events", "/records/r1/events"), ALICE)
    api_call(stack.api, "PUT", f"/buckets/{stack.bucket}/collections/other", ALICE, {})
    put_record(stack, 1)
    put_record(stack, 2)
    put_record(stack, 1, again=True)
    got = everything.take(4)
    assert [(e["data"]["resource_name"], e["event"]) for e in got] == [
        ("collection", "create"),
        ("record", "create"),
        ("record", "create"),
        ("record", "update"),
    ]
    assert [e["data"]["record_id"] for e in records.take(1)] == ["r1"]
    assert [(e["event"], e["data"]["record_id"]) for e in one.take(2)] == [
        ("create", "r1"),
        ("update", "r1"),
    ]
    for each in (everything, records, one):
        each.close()


def test_a_bad_filter_or_position_is_400_naming_it(stack):
    bad = SSE(stack.push, stack.events + "?action=create,upsert", ALICE)
    assert (bad.status, bad.body()["message"]) == (
        400,
        "action must be among create, update, delete, got 'upsert'",
    )
    bad = SSE(stack.push, stack.events + "?resource_name=group", ALICE)
    assert bad.body()["message"] == (
        "resource_name must be among bucket, collection, record, got 'group'"
    )
    bad = SSE(stack.push, stack.events, {**ALICE, "Last-Event-ID": "yesterday"})
    body = bad.body()
    assert (bad.status, body["errno"], body["message"]) == (
        400,
        107,
        "since must be a stream position such as 1733123456789-0, got 'yesterday'",
    )


def test_reconnect_with_last_event_id_has_no_gap_and_no_duplicate(stack):
    sse = SSE(stack.push, stack.events, ALICE)
    for n in range(3):
        put_record(stack, n)
    seen = sse.take(3)
    sse.close()  # the connection drops; writes go on
    for n in range(3, 6):
        put_record(stack, n)
    again = SSE(stack.push, stack.events, {**ALICE, "Last-Event-ID": seen[-1]["id"]})
    for n in range(6, 8):
        put_record(stack, n)
    rest = again.take(5)
    again.close()
    records = [e["data"]["record_id"] for e in seen + rest]
    assert records == [f"r{n}" for n in range(8)]
    assert len({e["id"] for e in seen + rest}) == 8
    replayed = SSE(stack.push, stack.events + f"?since={seen[0]['id']}", ALICE)
    assert [e["data"]["record_id"] for e in replayed.take(7)] == [f"r{n}" for n in range(1, 8)]
    replayed.close()


def test_a_position_outside_the_retained_window_says_to_resync(stack, shared_stack, redis_client):
    listname = shared_stack[1]
    for n in range(3):
        put_record(stack, n)
    ids = [entry_id.decode() for entry_id, _ in redis_client.xrange(listname)]
    redis_client.xtrim(listname, maxlen=1, approximate=False)
    sse = SSE(stack.push, stack.events + f"?since={ids[0]}", ALICE)
    assert sse.next() == {
        "event": "error",
        "data": {
            "error": "outside_window",
            "message": f"events after position {ids[0]} are no longer retained (the oldest"
            f" retained is {ids[-1]}): resync with _since, then subscribe from now",
        },
    }
    assert sse.next() is None
    ahead = SSE(stack.push, stack.events + "?since=99999999999999-0", ALICE).next()
    assert ahead["data"]["message"] == (
        "position 99999999999999-0 is ahead of the stream:"
        " resync with _since, then subscribe from now"
    )


def test_another_users_collection_is_refused_as_the_api_would(stack):
    bob = SSE(stack.push, stack.events, BOB)
    assert (bob.status, bob.body()) == (
        403,
        {
            "code": 403,
            "errno": 121,
            "error": "Forbidden",
            "message": f"This user may not read {stack.c}",
        },
    )
    anonymous = SSE(stack.push, stack.events)
    assert anonymous.status == 401
    assert anonymous.body()["message"] == f"Authentication is required to read {stack.c}"
    assert anonymous.response.getheader("WWW-Authenticate") == 'Basic realm="notifier"'


def test_revoking_read_permission_ends_the_stream_with_an_error_event(stack):
    api_call(stack.api, "PATCH", stack.c, ALICE, {"permissions": {"read": [BOB_ID]}})
    bob = SSE(stack.push, stack.events, BOB)
    put_record(stack, 1)
    assert bob.next()["data"]["record_id"] == "r1"
    api_call(stack.api, "PUT", stack.c, ALICE, {"permissions": {}})
    started = time.monotonic()
    final = bob.next()
    if final["event"] == "update":  # the change that revoked it, sent before the recheck
        final = bob.next()
    assert final == {
        "event": "error",
        "data": {
            "error": "forbidden",
            "message": f"read permission on {stack.c} was revoked",
        },
    }
    assert bob.next() is None
    assert time.monotonic() - started < 5


def test_a_slow_consumer_is_dropped_without_harming_others(stack):
    slow = socket.socket()
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: a small window
    slow.connect(("127.0.0.1", int(stack.push.rsplit(":", 1)[1])))
    auth = ALICE["Authorization"]
    slow.sendall(
        f"GET {stack.events} HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n\r\n".encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:  # the response started: it is subscribed
        head += slow.recv(1)
    fast = SSE(stack.push, stack.events, ALICE)
    got: list = []
    reader = threading.Thread(target=lambda: got.extend(fast.take(96)), daemon=True)
    reader.start()
    big = {"b": "x" * 100_000}  # 9.6 MB in all: more than the socket buffers hold
    for round_ in range(12):
        requests = [
            {
                "method": "PUT",
                "path": f"{stack.c}/records/r{round_}-{n}",
                "body": {"data": big},
            }
            for n in range(8)
        ]
        api_call(stack.api, "POST", "/batch", ALICE, {"requests": requests})
    reader.join(30)
    fast.close()
    expected = [f"r{r}-{n}" for r in range(12) for n in range(8)]
    assert [e["data"]["record_id"] for e in got] == expected
    slow.settimeout(20)
    received = b""
    while chunk := slow.recv(65536):
        received += chunk
    slow.close()
    assert head.startswith(b"HTTP/1.1 200")
    assert len(received) < 96 * 100_000  # dropped long before it got everything
    wait_for(lambda: f"dropped a slow subscriber of {stack.c}" in stack.process.output)


def test_subscription_tokens_stand_in_for_the_header(stack):
    issued = api_call(stack.api, "POST", "/push/tokens", ALICE)
    assert issued["userid"] == ALICE_ID and issued["expires"] > time.time()
    sse = SSE(stack.push, stack.events + "?token=" + issued["token"])
    put_record(stack, 1)
    got = sse.next()
    assert got["data"]["record_id"] == "r1", (got, stack.process.output[-3000:])
    sse.close()
    forged = issued["token"][:-2] + ("AA" if not issued["token"].endswith("AA") else "BB")
    refused = SSE(stack.push, stack.events + "?token=" + forged)
    assert (refused.status, refused.body()["message"]) == (
        401,
        "the token's signature does not match: get a new one",
    )


def test_the_default_bucket_alias_is_the_callers_own(stack):
    sse = SSE(stack.push, "/v1/buckets/default/collections/notes/events", ALICE)
    assert sse.status == 200
    api_call(stack.api, "POST", "/buckets/default/collections/notes/records", ALICE, {"data": {}})
    events = sse.take(2)
    sse.close()
    assert [e["data"]["resource_name"] for e in events] == ["collection", "record"]
    assert {e["data"]["collection_id"] for e in events} == {"notes"}
    anonymous = SSE(stack.push, "/v1/buckets/default/events")
    assert anonymous.status == 401


def test_idle_streams_get_keep_alive_comments(stack):
    sse = SSE(stack.push, stack.events, ALICE)
    wait_for(lambda: sse.response.readline() == b": keep-alive\n", 10, step=0)
    sse.close()


def test_websocket_gets_one_json_message_per_event_and_replays(stack):
    async def scenario():
        async with aiohttp.ClientSession(headers=ALICE) as session:
            async with session.ws_connect(stack.push + stack.events) as ws:
                await asyncio.to_thread(put_record, stack, 1)
                first = json.loads((await ws.receive(timeout=10)).data)
            await asyncio.to_thread(put_record, stack, 2)
            url = stack.push + stack.events + "?since=" + first["id"]
            async with session.ws_connect(url) as ws:
                second = json.loads((await ws.receive(timeout=10)).data)
        return first, second

    first, second = asyncio.run(scenario())
    assert set(first) == {"id", "event", "data"}
    assert (first["event"], first["data"]["record_id"]) == ("create", "r1")
    assert second["data"]["record_id"] == "r2" and second["id"] > first["id"]


def test_sigterm_ends_each_stream_with_an_error_event_and_stops(tmp_path, redis_url, listname):
    with push_stack(tmp_path, redis_url, listname) as own:
        api_call(own.api, "PUT", "/buckets/b", ALICE, {})
        sse = SSE(own.push, "/v1/buckets/b/events", ALICE)
        own.process.send_signal(signal.SIGTERM)
        assert sse.next() == {
            "event": "error",
            "data": {
                "error": "shutdown",
                "message": "the push service is stopping; reconnect with Last-Event-ID",
            },
        }
        assert own.process.wait(15) == 0
