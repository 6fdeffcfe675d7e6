"""The real push process when things go wrong: Redis loses the stream, a client stops reading."""

from __future__ import annotations

import json
import socket

from tests.conftest import ALICE
from tests.helpers import wait_for
from tests.push_helpers import SSE, api_call, push_stack

ELSEWHERE = json.dumps({"action": "create", "resource_name": "bucket", "bucket_id": "elsewhere"})


def resync_error(event: dict | None) -> bool:
    return (
        event is not None
        and event["event"] == "error"
        and event["data"]["error"] == "stream_reset"
        and event["data"]["message"].startswith("the event stream was reset (Redis lost it, ")
        and event["data"]["message"].endswith(
            "events may be missing; resync with _since, then subscribe from now"
        )
    )


def test_a_stream_redis_lost_is_read_again_and_subscribers_told_to_resync(
    tmp_path, redis_url, redis_client, listname
):
    with push_stack(tmp_path, redis_url, listname) as own:
        api_call(own.api, "PUT", "/buckets/b", ALICE, {})
        sse = SSE(own.push, "/v1/buckets/b/events", ALICE)
        api_call(own.api, "PUT", "/buckets/b/collections/c", ALICE, {})
        assert sse.next()["data"]["collection_id"] == "c"
        # Redis restarted without persistence, its clock behind: positions begin again below ours.
        redis_client.delete(listname)
        redis_client.xadd(listname, {"message": ELSEWHERE}, id="1-1")
        assert resync_error(sse.next())
        assert sse.next() is None
        again = SSE(own.push, "/v1/buckets/b/events", ALICE)
        api_call(own.api, "PUT", "/buckets/b/collections/d", ALICE, {})
        assert again.next()["data"]["collection_id"] == "d"
        # The key gone and begun again with fresh ids (above ours): a new stream all the same.
        redis_client.delete(listname)
        api_call(own.api, "PUT", "/buckets/b/collections/e", ALICE, {})
        events = [again.next(), again.next()]
        assert resync_error(events[-1]) or (resync_error(events[0]) and events[1] is None)
        assert f"push: the stream {listname!r} was reset" in own.process.output


def test_a_client_that_stops_reading_gets_the_final_message_once_it_reads_again(
    tmp_path, redis_url, listname
):
    with push_stack(tmp_path, redis_url, listname, **{"notifier.push.queue_size": "1000"}) as own:
        api_call(own.api, "PUT", "/buckets/b", ALICE, {})
        api_call(own.api, "PUT", "/buckets/b/collections/c", ALICE, {})
        stuck = socket.socket()
        stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect
        stuck.connect(("127.0.0.1", int(own.push.rsplit(":", 1)[1])))
        auth = ALICE["Authorization"]
        path = "/v1/buckets/b/collections/c/events"
        stuck.sendall(f"GET {path} HTTP/1.0\r\nAuthorization: {auth}\r\n\r\n".encode())
        head = b""
        while b": subscribed\n\n" not in head:
            head += stuck.recv(1)
        dropped = "dropped a slow subscriber of /buckets/b/collections/c"
        big = {"b": "x" * 100_000}
        for round_ in range(40):  # until the socket's buffers are full and a write waits
            if dropped in own.process.output:
                break
            requests = [
                {
                    "method": "PUT",
                    "path": f"/buckets/b/collections/c/records/r{round_}-{n}",
                    "body": {"data": big},
                }
                for n in range(8)
            ]
            api_call(own.api, "POST", "/batch", ALICE, {"requests": requests})
        wait_for(lambda: dropped in own.process.output, 30)
        stuck.settimeout(20)
        received = b""
        while chunk := stuck.recv(65536):  # it reads again: what was sent, then the end
            received += chunk
        stuck.close()
    final = {
        "error": "slow_consumer",
        "message": "slow consumer: the client read nothing for 5 s; reconnect with Last-Event-ID",
    }
    assert received.endswith(f"event: error\ndata: {json.dumps(final)}\n\n".encode())
    assert received.count(b"event: create\n") < 320  # dropped long before it got everything
    assert f"{dropped} (client 127.0.0.1): {final['message']}" in own.process.output
