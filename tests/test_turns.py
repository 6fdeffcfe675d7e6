"""Requests take turns on SQLite, end to end; on PostgreSQL they run side by side."""

from __future__ import annotations

import http.client
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

import notifier
from notifier.http.turns import Turns
from tests.conftest import ALICE, SECRET, serving

RECORDS = "/v1/buckets/b/collections/c/records"


def call(url: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    address = urlsplit(url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=20)
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
    (loaded,) = app.registry.notifier_dispatcher.listeners
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


def test_on_sqlite_requests_wait_for_the_turn_of_one_in_its_listener(tmp_path: Path) -> None:
    sqlite = {"notifier.storage_url": str(tmp_path / "notifier.sqlite")}
    with (
        gated(sqlite) as (app, gate),
        serving(app, threads=4) as url,
        ThreadPoolExecutor(3) as pool,
    ):
        assert isinstance(app, Turns)
        make_collection(url)
        first = held_create(url, gate, pool)
        second = pool.submit(call, url, "POST", RECORDS, {"data": {"n": 2}})
        read = pool.submit(call, url, "GET", RECORDS)
        time.sleep(0.3)  # room for either to run, if it could
        assert not second.done() and not read.done()

        gate.let_go()
        assert first.result(timeout=10)[0] == 201
        assert second.result(timeout=10)[0] == 201
        status, listed = read.result(timeout=10)
        assert status == 200 and 1 in [record["n"] for record in listed["data"]]
        assert sorted(r["n"] for r in call(url, "GET", RECORDS)[1]["data"]) == [1, 2]


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
        assert not isinstance(app, Turns)
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


def echo(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [environ["REQUEST_METHOD"].encode()]


def request(turns: Turns, method: str, path: str = "/v1/buckets/b") -> Iterable[bytes]:
    return turns({"REQUEST_METHOD": method, "PATH_INFO": path}, lambda *args: None)


def test_the_turn_passes_on_when_the_server_closes_the_body() -> None:
    turns = Turns(echo, registry=None, timeout=5)
    body = request(turns, "POST")
    assert list(body) == [b"POST"]
    waiting = threading.Thread(target=lambda: list(request(turns, "GET")))
    waiting.start()
    waiting.join(timeout=0.2)
    assert waiting.is_alive()  # the GET waits for the POST's turn
    body.close()  # type: ignore[attr-defined]
    waiting.join(timeout=5)
    assert not waiting.is_alive()
    body.close()  # type: ignore[attr-defined]  # a second close passes nothing on


def test_a_failing_app_passes_the_turn_on() -> None:
    def broken(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        raise RuntimeError("boom")

    turns = Turns(broken, registry=None, timeout=5)
    for _ in range(2):  # the second call would wait 5 s if the first kept the turn
        with pytest.raises(RuntimeError, match="boom"):
            request(turns, "POST")
    assert turns._turn.acquire(blocking=False)


def test_a_turn_that_never_comes_is_skipped_with_a_warning(caplog: Any) -> None:
    turns = Turns(echo, registry=None, timeout=0.05)
    held = request(turns, "POST")
    with caplog.at_level(logging.WARNING, logger="notifier.write_turns"):
        assert list(request(turns, "PATCH")) == [b"PATCH"]
    assert caplog.messages == [
        "a request waited 0.1s for its turn and goes ahead without it"
        " (a listener slower than that holds the turn)"
    ]
    held.close()  # type: ignore[attr-defined]
