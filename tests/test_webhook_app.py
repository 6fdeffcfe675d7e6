"""The webhook listener in the application, against a real HTTP receiver on 127.0.0.1.

Signatures are checked with the reference ``standardwebhooks`` library, never
with the listener's own code.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from webtest import TestApp

from notifier import shutdown
from notifier.listeners import Rejected, webhook_settings
from tests.email_helpers import record_event
from tests.eventing import ALICE, RECORDS, create_collection, listener
from tests.smtp import free_port
from tests.webhook_helpers import (
    OTHER_SECRET,
    SECRET,
    backlog,
    build,
    dead_letters,
    hook_app,
    hook_settings,
    relay_round,
    verified,
)
from tests.webhook_receiver import SLOW, Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


Make = Callable[..., TestApp]


@pytest.fixture
def make(tmp_path: Path) -> Iterator[Callable[..., TestApp]]:
    """``hook_app`` on this test's folder; the apps' listeners and storage close at the end."""
    made: list[TestApp] = []

    def make_app(url: str, app_settings: dict[str, str] | None = None, **extra: str) -> TestApp:
        app = hook_app(tmp_path, url, app_settings, **extra)
        made.append(app)
        return app

    yield make_app
    for app in made:
        shutdown(app.app.registry)


def relay_until(app: TestApp, done: Callable[[], bool], timeout: float = 10.0) -> None:
    """Run relay rounds until ``done()``; the 1 ms backoff makes each entry due at once."""
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "the relay did not get there in time"
        relay_round(app)


def create(app: TestApp, record_id: str, data: dict[str, object] | None = None) -> None:
    app.put_json(f"{RECORDS}/{record_id}", {"data": data or {}}, headers=ALICE, status=201)


def test_each_event_is_posted_signed_with_the_queue_message(make: Make, receiver: Receiver) -> None:
    app = make(receiver.url, resources="record")
    create_collection(app)
    create(app, "r1", {"title": "Hi"})

    [request] = receiver.wait_for(1)
    payload = verified(request)
    assert request.path == "/hooks/notifier?token=t0ken"
    assert request.header("Content-Type") == "application/json"
    assert request.header("webhook-id") == payload["event_id"]
    assert abs(int(request.header("webhook-timestamp")) - time.time()) < 60
    assert request.header("webhook-signature").startswith("v1,")
    assert (payload["action"], payload["record_id"]) == ("create", "r1")
    assert payload["impacted_objects"][0]["new"]["title"] == "Hi"
    assert json.loads(request.body) == payload
    assert backlog(app) == 0


def test_during_a_rotation_both_secrets_verify(make: Make, receiver: Receiver) -> None:
    app = make(receiver.url, resources="record", secret=f"{SECRET} {OTHER_SECRET}")
    create_collection(app)
    create(app, "r1")

    [request] = receiver.wait_for(1)
    assert len(request.header("webhook-signature").split()) == 2
    assert verified(request, SECRET) == verified(request, OTHER_SECRET)


def test_extra_headers_are_sent(make: Make, receiver: Receiver) -> None:
    app = make(receiver.url, resources="record", headers="Authorization: Bearer k")
    create_collection(app)
    create(app, "r1")

    assert receiver.wait_for(1)[0].header("Authorization") == "Bearer k"


def test_failing_twice_then_200_gets_the_event_again_with_the_same_id(
    make: Make, receiver: Receiver
) -> None:
    receiver.answers = [500, 503]
    app = make(receiver.url, resources="record")
    create_collection(app)
    create(app, "r1")
    relay_until(app, lambda: len(receiver.received) == 3)

    requests = receiver.received
    assert [r.status for r in requests] == [500, 503, 200]
    ids = {r.header("webhook-id") for r in requests}
    assert len(ids) == 1
    assert [verified(r)["event_id"] for r in requests] == [ids.pop()] * 3
    assert backlog(app) == 0


def test_order_is_kept_after_a_failure(make: Make, receiver: Receiver) -> None:
    receiver.answers = [500]
    app = make(receiver.url, resources="record")
    create_collection(app)
    for record_id in ("r1", "r2", "r3"):
        create(app, record_id)
    relay_until(app, lambda: len(receiver.received) == 4)

    assert [json.loads(r.body)["record_id"] for r in receiver.received] == ["r1", "r1", "r2", "r3"]


def test_connections_are_reused(make: Make, receiver: Receiver) -> None:
    app = make(receiver.url, resources="record")
    create_collection(app)
    for number in range(5):
        create(app, f"r{number}")

    assert len({r.client_port for r in receiver.wait_for(5)}) == 1


def test_a_receiver_down_then_up_gets_the_event(make: Make) -> None:
    port = free_port()
    later = Receiver(port)
    app = make(later.url, resources="record")
    create_collection(app)
    create(app, "r1")
    assert backlog(app) == 1

    later.start()
    try:
        relay_until(app, lambda: len(later.received) == 1)
        assert verified(later.received[0])["record_id"] == "r1"
        assert backlog(app) == 0
    finally:
        later.stop()


def test_a_slow_receiver_is_timed_out_and_retried(make: Make, receiver: Receiver) -> None:
    receiver.answers = [SLOW]
    app = make(receiver.url, resources="record", timeout="0.5")
    create_collection(app)
    create(app, "r1")
    assert backlog(app) == 1  # the request gave up waiting

    receiver.release.set()
    relay_until(app, lambda: backlog(app) == 0)
    requests = receiver.wait_for(2)
    assert len({r.header("webhook-id") for r in requests}) == 1


def test_410_disables_the_endpoint_everywhere_until_enabled(make: Make, receiver: Receiver) -> None:
    receiver.answers = [410]
    app = make(receiver.url, {"notifier.outbox.max_attempts": "2"}, resources="record")
    create_collection(app)
    create(app, "r1")
    create(app, "r2")
    relay_until(app, lambda: len(dead_letters(app)) == 2)

    assert [r.status for r in receiver.received] == [410]  # r2 was never sent
    reasons = [entry.last_error or "" for entry in dead_letters(app)]
    assert all("answered 410 Gone at" in reason for reason in reasons), reasons
    heartbeat = app.get("/v1/__heartbeat__", status=503).json  # the dead letters
    [endpoint] = heartbeat["hook"]["endpoints"]
    assert endpoint["url"] == f"http://127.0.0.1:{receiver.port}/..."
    assert endpoint["disabled"].startswith("answered 410 Gone at ")

    # Another process on the same storage (a worker, a second server) agrees.
    storage = {"notifier.storage_url": app.app.registry.settings["notifier.storage_url"]}
    other = build({**hook_settings(receiver.url), **storage})
    [gone] = other.settings.endpoints
    assert other.states.is_disabled(gone) == endpoint["disabled"]

    # An operator enables it again; the app sees it at its next read of the state.
    assert other.states.enable([gone]) == [gone]
    other.close()
    listener(app, "hook").states.refresh = 0
    create(app, "r3")
    assert json.loads(receiver.wait_for(2)[1].body)["record_id"] == "r3"
    heartbeat = app.get("/v1/__heartbeat__", status=503).json  # r1 and r2 are dead letters
    assert heartbeat["hook"]["endpoints"][0]["disabled"] is None


def test_an_address_that_turns_private_is_refused_and_dead_lettered(
    make: Make, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # At start the name resolves outside; by delivery DNS points it at 127.0.0.1.
    monkeypatch.setattr(webhook_settings, "resolve", lambda host, port: ["93.184.215.14"])
    url = f"http://localhost:{receiver.port}/hooks"
    app = make(
        url,
        {"notifier.outbox.max_attempts": "1"},
        resources="record",
        allow_private_addresses="false",
    )
    create_collection(app)
    create(app, "r1")

    [entry] = dead_letters(app)
    assert "an address inside the network; delivery refused" in (entry.last_error or "")
    assert receiver.received == []


def test_record_data_cannot_add_or_change_a_header(make: Make, receiver: Receiver) -> None:
    app = make(receiver.url, resources="record", headers="X-Team: ops")
    create_collection(app)
    evil = "x\r\nX-Injected: 1\r\nwebhook-id: forged"
    data = {"title": evil, "webhook-id": "forged", "headers": {"X-Injected": "1"}}
    create(app, "r1", data)

    [request] = receiver.wait_for(1)
    payload = verified(request)
    names = sorted(request.header_dict())
    assert names == sorted(
        [
            "accept-encoding",
            "content-length",
            "content-type",
            "host",
            "user-agent",
            "webhook-id",
            "webhook-signature",
            "webhook-timestamp",
            "x-team",
        ]
    )
    assert request.header("webhook-id") == payload["event_id"] != "forged"
    assert payload["impacted_objects"][0]["new"]["title"] == evil


def test_an_event_id_that_is_not_a_header_value_is_refused_unsent(receiver: Receiver) -> None:
    hook = build(hook_settings(receiver.url))
    forged = record_event("create", new={"id": "r1"}, event_id="x\r\nX-Injected: 1")
    try:
        with pytest.raises(Rejected, match="cannot be a webhook-id"):
            hook(forged)
    finally:
        hook.close()
    assert receiver.received == []


def test_with_two_urls_a_gone_one_is_skipped_and_the_other_keeps_going(
    make: Make, receiver: Receiver
) -> None:
    gone = Receiver().start()
    try:
        gone.answers = [410]
        app = make(f"{gone.url} {receiver.url}", resources="record")
        create_collection(app)
        create(app, "r1")
        create(app, "r2")

        assert [r.status for r in gone.received] == [410]
        assert [json.loads(r.body)["record_id"] for r in receiver.wait_for(2)] == ["r1", "r2"]
        assert (backlog(app), dead_letters(app)) == (0, [])
        gone_health, ok_health = app.get("/v1/__heartbeat__").json["hook"]["endpoints"]
        assert gone_health["disabled"].startswith("answered 410 Gone")
        assert ok_health["disabled"] is None
    finally:
        gone.stop()


def test_with_two_urls_a_failure_at_one_retries_the_event_for_both(
    make: Make, receiver: Receiver
) -> None:
    failing = Receiver().start()
    try:
        failing.answers = [500]
        app = make(f"{receiver.url} {failing.url}", resources="record")
        create_collection(app)
        create(app, "r1")
        relay_until(app, lambda: backlog(app) == 0)

        assert [r.status for r in failing.received] == [500, 200]
        ids = [r.header("webhook-id") for r in receiver.received + failing.received]
        assert len(ids) == 4 and len(set(ids)) == 1
    finally:
        failing.stop()
