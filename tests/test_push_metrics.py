"""The push service's /metrics, scraped from a real push process."""

from __future__ import annotations

import uuid

from tests.conftest import ALICE
from tests.helpers import wait_for
from tests.metrics_helpers import Scrape, scrape_url
from tests.push_helpers import SSE, api_call, push_stack

PUSH_FAMILIES = {
    "notifier_push_connections",
    "notifier_push_connections_accepted",
    "notifier_push_connections_ended",
    "notifier_push_stream_events",
    "notifier_push_fanout",
    "notifier_push_redis_up",
}


def test_connections_and_fan_out_are_counted(tmp_path, redis_url, redis_client):
    stream = f"test-push-{uuid.uuid4().hex[:12]}"
    try:
        with push_stack(tmp_path, redis_url, stream) as stack:
            url = stack.push + "/metrics"
            first = scrape_url(url)
            assert set(first.families) >= PUSH_FAMILIES
            assert first.value("notifier_push_connections", transport="sse") == 0
            assert first.value("notifier_push_connections_ended_total", reason="slow_consumer") == 0
            assert first.value("notifier_push_redis_up") == 1
            api_call(stack.api, "PUT", "/buckets/b", ALICE, {})
            api_call(stack.api, "PUT", "/buckets/b/collections/c", ALICE, {})
            sse = SSE(stack.push, "/v1/buckets/b/collections/c/records/r1/events", ALICE)
            assert sse.status == 200
            api_call(stack.api, "PUT", "/buckets/b/collections/c/records/r1", ALICE, {"data": {}})
            assert [event["event"] for event in sse.take(1)] == ["create"]
            found = scrape_url(url)
            assert found.value("notifier_push_connections", transport="sse") == 1
            assert found.value("notifier_push_connections_accepted_total", transport="sse") == 1
            assert found.value("notifier_push_fanout_total") == 1
            assert found.value("notifier_push_stream_events_total") == 3
            sse.response.close()  # the socket closes with its last file
            sse.close()

            def ended() -> Scrape | None:
                found = scrape_url(url)
                open_now = found.value("notifier_push_connections", transport="sse")
                return found if open_now == 0 else None

            found = wait_for(ended, timeout=20)
            assert found.total("notifier_push_connections_ended_total") == 1
    finally:
        redis_client.delete(stream)
