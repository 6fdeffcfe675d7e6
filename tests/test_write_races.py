"""Concurrent writes of one new id answer as on SQLite: one 201, the others 200 or 412 (issue 14).

Real threads running requests through the real app at once, on each backend
(in process, not over sockets: a long test run holds more descriptors than
waitress's select() takes): no 500, no deadlock.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from webob import Request

from tests.apps import running
from tests.conftest import ALICE, SECRET

WRITERS = 16


@pytest.fixture
def server(backend_settings: dict[str, str]) -> Iterator[Any]:
    settings = {
        **backend_settings,
        "notifier.userid_hmac_secret": SECRET,
        "notifier.storage_pool_size": str(WRITERS + 2),
    }
    with running(settings) as app:
        send(app, "PUT", "/v1/buckets/b", {})
        send(app, "PUT", "/v1/buckets/b/collections/c", {})
        yield app


def send(app: Any, method: str, path: str, body: Any, headers: dict[str, str] | None = None) -> int:
    """One request through the WSGI app, as waitress would call it; its status."""
    request = Request.blank(
        path,
        method=method,
        headers={**ALICE, "Content-Type": "application/json", **(headers or {})},
    )
    request.body = json.dumps(body).encode()
    return int(request.get_response(app).status_code)


def race(base: Any, method: str, path: str, headers: dict[str, str] | None = None) -> Counter[int]:
    """``WRITERS`` threads send the same write at once; the count of each status."""
    start = threading.Barrier(WRITERS)
    statuses: list[int] = []

    def write(number: int) -> None:
        start.wait(timeout=10)
        statuses.append(send(base, method, path, {"data": {"n": number}}, headers))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return Counter(statuses)


@pytest.mark.parametrize("round_", range(3))
def test_concurrent_puts_of_a_new_id(server: Any, round_: int) -> None:
    statuses = race(server, "PUT", f"/v1/buckets/b/collections/c/records/new{round_}")
    assert statuses == Counter({201: 1, 200: WRITERS - 1})


def test_concurrent_puts_if_none_match(server: Any) -> None:
    headers = {"If-None-Match": "*"}
    statuses = race(server, "PUT", "/v1/buckets/b/collections/c/records/once", headers)
    assert statuses == Counter({201: 1, 412: WRITERS - 1})


def test_concurrent_creates_of_a_chosen_id(server: Any) -> None:
    start = threading.Barrier(WRITERS)
    statuses: list[int] = []

    def create() -> None:
        start.wait(timeout=10)
        body = {"data": {"id": "chosen"}}
        statuses.append(send(server, "POST", "/v1/buckets/b/collections/c/records", body))

    threads = [threading.Thread(target=create) for _ in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert Counter(statuses) == Counter({201: 1, 200: WRITERS - 1})


def test_concurrent_puts_of_new_buckets_and_collections(server: Any) -> None:
    assert race(server, "PUT", "/v1/buckets/fresh") == Counter({201: 1, 200: WRITERS - 1})
    statuses = race(server, "PUT", "/v1/buckets/fresh/collections/new")
    assert statuses == Counter({201: 1, 200: WRITERS - 1})


# ---- what order the queue keeps ---------------------------------------------------------


def queue_server_settings(
    backend_settings: dict[str, str], redis_url: str, listname: str
) -> dict[str, str]:
    return {
        **backend_settings,
        "notifier.userid_hmac_secret": SECRET,
        "notifier.storage_pool_size": str(WRITERS + 2),
        "notifier.relay.in_process": "false",
        "notifier.event_listeners": "queue",
        "notifier.event_listeners.queue.use": "notifier.listeners.redis",
        "notifier.event_listeners.queue.url": redis_url,
        "notifier.event_listeners.queue.listname": listname,
        "notifier.event_listeners.queue.resources": "record",
    }


def test_timestamps_tell_commit_order(
    backend_settings: dict[str, str], redis_url: str, redis_client: Any, listname: str
) -> None:
    """8 writers x 15 updates over 3 records of one collection.

    Per collection, ``timestamp`` strictly increases in commit order (writers
    of a list hold its timestamp row until they commit), so sorted by
    timestamp each record's events chain: every ``old`` is the previous
    ``new``.  The queue itself may be in another order: concurrent requests
    each push after their own commit.
    """
    settings = queue_server_settings(backend_settings, redis_url, listname)
    writers, rounds = 8, 15
    with running(settings) as base:
        send(base, "PUT", "/v1/buckets/b", {})
        send(base, "PUT", "/v1/buckets/b/collections/c", {})
        statuses: list[int] = []

        def write(writer: int) -> None:
            for n in range(rounds):
                path = f"/v1/buckets/b/collections/c/records/r{(writer + n) % 3}"
                statuses.append(send(base, "PUT", path, {"data": {"w": writer, "n": n}}))

        threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
    assert sorted(set(statuses)) == [200, 201] and len(statuses) == writers * rounds
    queued = [json.loads(raw) for raw in redis_client.lrange(listname, 0, -1)]
    assert len(queued) == writers * rounds
    stamps = [message["timestamp"] for message in queued]
    assert len(set(stamps)) == len(stamps)
    in_commit_order = sorted(queued, key=lambda message: message["timestamp"])
    previous: dict[str, int] = {}
    for message in in_commit_order:
        impacted = message["impacted_objects"][0]
        uri = message["uri"]
        if uri in previous:
            assert impacted["old"]["last_modified"] == previous[uri]
        else:
            assert message["action"] == "create"
        previous[uri] = impacted["new"]["last_modified"]
