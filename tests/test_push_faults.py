"""The real push process when things go wrong: Redis loses the stream, a client stops reading."""

from __future__ import annotations

import json

from tests.conftest import ALICE
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
