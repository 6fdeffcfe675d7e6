"""X-Request-Id: kept or replaced, on every response, in the events and their retries."""

from __future__ import annotations

import json
import logging
import re

import pytest
from pyramid.interfaces import ITweens
from webtest import TestApp

from notifier.delivery.changes import BeforeCommit
from notifier.logs.context import accept_request_id, current_request_id, request_id_scope
from notifier.logs.records import RequestIdFilter
from notifier.state import Heartbeat
from tests.eventing import ALICE, RECORDS, app_factory, listener
from tests.helpers import open_app
from tests.test_outbox import FAST_RETRIES, relay_until_quiet

GENERATED = re.compile(r"[0-9a-f]{32}")
RECORD = f"{RECORDS}/r1"


@pytest.fixture
def make(tmp_path, backend_settings):
    """Apps with recorder listeners, on SQLite and on PostgreSQL."""
    yield from app_factory(tmp_path, backend_settings)


@pytest.fixture
def sqlite_make(tmp_path):
    yield from app_factory(tmp_path, {})


def with_id(value: str) -> dict[str, str]:
    return {**ALICE, "X-Request-Id": value}


@pytest.mark.parametrize("value", ["a", "abc-DEF_1.2", "x" * 128, "0f" * 16])
def test_a_valid_client_id_is_kept(app: TestApp, value: str) -> None:
    response = app.get("/v1/", headers={"X-Request-Id": value})
    assert response.headers["X-Request-Id"] == value


@pytest.mark.parametrize(
    "value",
    ["", "x" * 129, "has space", "a/b", "semi;colon", "caf\u00e9", "line\nbreak", 'quote"'],
    ids=["empty", "too-long", "space", "slash", "semicolon", "non-ascii", "newline", "quote"],
)
def test_an_invalid_client_id_is_replaced(value: str) -> None:
    replaced = accept_request_id(value)
    assert replaced != value and GENERATED.fullmatch(replaced)


@pytest.mark.parametrize("value", ["", "x" * 129, "a b", "<script>"])
def test_the_server_replaces_an_invalid_id(app: TestApp, value: str) -> None:
    response = app.get("/v1/", headers={"X-Request-Id": value})
    assert GENERATED.fullmatch(response.headers["X-Request-Id"])


def test_an_id_is_generated_when_none_is_sent_and_differs_per_request(app: TestApp) -> None:
    first = app.get("/v1/").headers["X-Request-Id"]
    second = app.get("/v1/").headers["X-Request-Id"]
    assert GENERATED.fullmatch(first) and GENERATED.fullmatch(second)
    assert first != second


def test_every_kind_of_response_carries_it(app: TestApp) -> None:
    app.put_json("/v1/buckets/b", {}, headers=with_id("created"), status=201)
    app.put_json("/v1/buckets/b/collections/c", {}, headers=ALICE, status=201)
    record = app.put_json(RECORD, {"data": {}}, headers=ALICE).json["data"]
    etag = f'"{record["last_modified"]}"'
    cases = [
        ("ok", app.get(RECORD, headers=with_id("ok"), status=200)),
        (
            "not-modified",
            app.get(RECORD, headers={**with_id("not-modified"), "If-None-Match": etag}, status=304),
        ),
        (
            "unauthorized",
            app.get("/v1/buckets/b", headers={"X-Request-Id": "unauthorized"}, status=401),
        ),
        ("forbidden", app.get("/v1/buckets/other", headers=with_id("forbidden"), status=403)),
        ("missing", app.get("/v1/nothing-here", headers=with_id("missing"), status=404)),
        (
            "invalid",
            app.post(
                RECORDS,
                "{nope",
                headers={**with_id("invalid"), "Content-Type": "application/json"},
                status=400,
            ),
        ),
        ("redirect", app.get("/buckets", headers=with_id("redirect"), status=307)),
    ]
    for sent, response in cases:
        assert response.headers["X-Request-Id"] == sent, response.status


def test_a_server_error_carries_it_too(app: TestApp) -> None:
    def fail_before_commit(event: BeforeCommit) -> None:
        raise RuntimeError("injected fault before commit")

    app.app.registry.registerHandler(fail_before_commit, (BeforeCommit,))
    response = app.put_json("/v1/buckets/b", {}, headers=with_id("boom"), status=500)
    assert response.headers["X-Request-Id"] == "boom"


def test_the_id_is_current_only_while_the_request_runs(app: TestApp) -> None:
    seen: list[str | None] = []

    def spy(event: BeforeCommit) -> None:
        seen.append(current_request_id())

    app.app.registry.registerHandler(spy, (BeforeCommit,))
    app.put_json("/v1/buckets/b", {}, headers=with_id("during"), status=201)
    assert seen == ["during"]
    assert current_request_id() is None


def test_a_scope_restores_the_previous_id() -> None:
    with request_id_scope("outer"):
        with request_id_scope("inner"):
            assert current_request_id() == "inner"
        assert current_request_id() == "outer"
    assert current_request_id() is None


def test_events_carry_the_request_id_and_kintos_keys_stay(sqlite_make) -> None:
    app = sqlite_make("rec")
    app.put_json("/v1/buckets/b", {}, headers=with_id("req-1"), status=201)
    event = listener(app, "rec").events[0]
    assert event.payload["request_id"] == event.request_id == "req-1"
    assert event.request.request_id == "req-1"
    kinto = {"action", "uri", "resource_name", "user_id", "timestamp", "bucket_id"}
    assert kinto <= set(event.payload)
    assert json.loads(event.to_json())["request_id"] == "req-1"


def test_batch_subrequests_carry_the_batch_id(sqlite_make) -> None:
    app = sqlite_make("rec")
    requests = [
        {"method": "PUT", "path": "/buckets/b"},
        {"method": "PUT", "path": "/buckets/b/collections/c"},
        {"method": "GET", "path": "/buckets/nothing"},
    ]
    response = app.post_json("/v1/batch", {"requests": requests}, headers=with_id("batch-7"))
    assert response.headers["X-Request-Id"] == "batch-7"
    subresponses = response.json["responses"]
    assert [r["headers"]["X-Request-Id"] for r in subresponses] == ["batch-7"] * 3
    events = listener(app, "rec").events
    assert [e.request_id for e in events] == ["batch-7", "batch-7"]


def test_a_retry_by_the_relay_carries_the_original_id(make) -> None:
    """The id rides in the payload the outbox stores: the relay's delivery has it."""
    app = make("flaky", **{"notifier.event_listeners.flaky.fail_first": "1", **FAST_RETRIES})
    app.put_json("/v1/buckets/b", {}, headers=with_id("first-try"), status=201)
    flaky = listener(app, "flaky")
    assert flaky.events == []
    relay_until_quiet(app)
    assert [e.request_id for e in flaky.events] == ["first-try"]
    assert flaky.events[0].request.request_id == "first-try"


def test_the_queue_message_carries_it(tmp_path, redis_url, redis_client, listname) -> None:
    app = open_app(
        **{
            "notifier.storage_url": str(tmp_path / "n.sqlite"),
            "notifier.userid_hmac_secret": "s" * 32,
            "notifier.event_listeners": "redis",
            "notifier.event_listeners.redis.use": "notifier.listeners.redis",
            "notifier.event_listeners.redis.url": redis_url,
            "notifier.event_listeners.redis.listname": listname,
        }
    )
    app.put_json("/v1/buckets/b", {}, headers=with_id("queued-1"), status=201)
    message = json.loads(redis_client.lpop(listname))
    assert (message["action"], message["request_id"]) == ("create", "queued-1")


def test_the_request_id_tween_is_outermost_with_the_metrics_plugin(tmp_path) -> None:
    """Above the metrics tween and the exception view: it sees every final response."""
    app = open_app(
        **{
            "notifier.storage_url": str(tmp_path / "n.sqlite"),
            "notifier.userid_hmac_secret": "s" * 32,
            "notifier.includes": "notifier.plugins.prometheus",
        }
    )
    names = [name for name, _ in app.app.registry.getUtility(ITweens).implicit()]
    assert names[0] == "notifier.http.requestid.request_id_tween_factory"
    assert "notifier.plugins.prometheus.tween.metrics_tween_factory" in names


def test_a_threaded_heartbeat_check_logs_with_the_request_id(app: TestApp, caplog) -> None:
    caplog.set_level(logging.INFO, logger="notifier.test")
    caplog.handler.addFilter(RequestIdFilter())

    def check(request: object) -> bool:
        logging.getLogger("notifier.test").info("checking")
        return True

    state = app.app.registry.notifier
    state.heartbeats["logs"] = Heartbeat(check, threaded=True)
    app.get("/v1/__heartbeat__", headers={"X-Request-Id": "hb-1"})
    [line] = [r for r in caplog.records if r.getMessage() == "checking"]
    assert line.request_id == "hb-1"
