"""A listener slower than its request delays that request only: others go on."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import notifier
from tests.conftest import ALICE, SECRET, serving

RECORDS = "/v1/buckets/b/collections/c/records"


def call(
    url: str, method: str, path: str, body: Any = None, timeout: float = 20
) -> tuple[int, Any]:
    address = urlsplit(url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=timeout)
    headers = {**ALICE, "Content-Type": "application/json"}
    connection.request(method, path, json.dumps(body) if body is not None else None, headers)
    response = connection.getresponse()
    payload = json.loads(response.read() or b"null")
    connection.close()
    return response.status, payload


@contextmanager
def gated(storage_settings: dict[str, str]) -> Iterator[tuple[Any, Any]]:
    """An app whose one listener holds events at a gate the test controls; yields (app, gate)."""
    app = notifier.main(
        {},
        **storage_settings,
        **{
            "notifier.userid_hmac_secret": SECRET,
            "notifier.relay.in_process": "false",
            "notifier.event_listeners": "gate",
            "notifier.event_listeners.gate.use": "tests.listeners.gate",
        },
    )
    (loaded,) = app.registry.notifier.listeners
    try:
        yield app, loaded.listener
    finally:
        loaded.listener.let_go()
        notifier.shutdown(app.registry)


def make_collection(url: str) -> None:
    for path in ("/v1/buckets/b", "/v1/buckets/b/collections/c"):
        assert call(url, "PUT", path, {})[0] == 201


def held_create(url: str, gate: Any, pool: ThreadPoolExecutor) -> Future[tuple[int, Any]]:
    """A create whose listener call waits at the gate; returns once it waits there."""
    gate.hold()
    first = pool.submit(call, url, "POST", RECORDS, {"data": {"n": 1}})
    assert gate.entered.wait(timeout=10), "the first create never reached its listener"
    return first


def test_on_sqlite_a_read_answers_while_a_listener_is_held(tmp_path: Path) -> None:
    sqlite = {"notifier.storage_url": str(tmp_path / "notifier.sqlite")}
    with (
        gated(sqlite) as (app, gate),
        serving(app, threads=4) as url,
        ThreadPoolExecutor(2) as pool,
    ):
        make_collection(url)
        first = held_create(url, gate, pool)
        # On this thread, while the create's listener still waits at the gate.  The
        # deadline is below the 5 s after which a request used to go ahead of a
        # listener holding the process's turn.
        status, listed = call(url, "GET", RECORDS, timeout=4)
        assert status == 200 and [record["n"] for record in listed["data"]] == [1]
        # A second create commits too, and its listener call reaches the gate.
        gate.entered.clear()
        second = pool.submit(call, url, "POST", RECORDS, {"data": {"n": 2}})
        assert gate.entered.wait(timeout=4)
        assert not first.done()
        gate.let_go()
        assert first.result(timeout=10)[0] == 201
        assert second.result(timeout=10)[0] == 201


def test_on_postgresql_writes_run_side_by_side(postgresql_migrated_url: str) -> None:
    postgresql = {
        "notifier.storage_backend": "notifier.storage.postgresql",
        "notifier.storage_url": postgresql_migrated_url,
    }
    with (
        gated(postgresql) as (app, gate),
        serving(app, threads=4) as url,
        ThreadPoolExecutor(3) as pool,
    ):
        make_collection(url)
        first = held_create(url, gate, pool)
        gate.entered.clear()
        second = pool.submit(call, url, "POST", RECORDS, {"data": {"n": 2}})
        # The second create commits and reaches the gate while the first still waits there.
        assert gate.entered.wait(timeout=10)
        assert sorted(r["n"] for r in call(url, "GET", RECORDS)[1]["data"]) == [1, 2]
        gate.let_go()
        assert first.result(timeout=10)[0] == 201
        assert second.result(timeout=10)[0] == 201
