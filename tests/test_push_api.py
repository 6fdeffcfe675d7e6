"""The API side of push: subscription tokens and the outbox endpoints."""

from __future__ import annotations

import time

from notifier.push import tokens
from tests.conftest import ALICE, ALICE_ID, BOB, SECRET
from tests.eventing import RECORDS, create_collection, make_app

JSON_TYPE = {"Content-Type": "application/json"}

L = "notifier.event_listeners"


def test_a_token_names_the_caller_and_expires_after_the_ttl(tmp_path):
    app = make_app(tmp_path, **{"notifier.push.token_ttl": "60"})
    response = app.post("/v1/push/tokens", headers=ALICE, status=201)
    assert response.json["userid"] == ALICE_ID
    assert abs(response.json["expires"] - (time.time() + 60)) < 5
    assert tokens.verify(SECRET, response.json["token"]) == ALICE_ID


def test_a_token_needs_credentials(tmp_path):
    app = make_app(tmp_path)
    response = app.post("/v1/push/tokens", status=401)
    assert response.json["message"] == "Send Basic credentials to get a push subscription token"
    assert response.json["errno"] == 104


def test_the_console_origin_may_call_the_api(tmp_path):
    app = make_app(tmp_path)
    preflight = app.options(
        "/v1/push/tokens",
        headers={
            "Origin": "http://127.0.0.1:8889",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Authorization",
        },
    )
    assert preflight.headers["Access-Control-Allow-Origin"] in ("*", "http://127.0.0.1:8889")
    assert "authorization" in preflight.headers["Access-Control-Allow-Headers"].lower()


def test_the_outbox_is_for_its_admins_only(tmp_path):
    app = make_app(tmp_path, **{"notifier.outbox.admin_principals": ALICE_ID})
    refused = app.get("/v1/__outbox__", headers=BOB, status=403)
    assert refused.json["message"] == (
        "Only the principals of notifier.outbox.admin_principals may see the outbox"
    )
    assert app.get("/v1/__outbox__", status=401).json["errno"] == 104
    assert app.get("/v1/__outbox__", headers=ALICE).json == {
        "listeners": {},
        "dead": [],
        "dead_total": 0,
    }


def test_the_console_sees_backlogs_and_dead_letters_and_replays_them(tmp_path):
    app = make_app(
        tmp_path,
        **{
            L: "broken",
            f"{L}.broken.use": "tests.listeners.recorder",
            f"{L}.broken.fail_first": "1000",
            "notifier.outbox.max_attempts": "1",
            "notifier.outbox.admin_principals": ALICE_ID,
        },
    )
    create_collection(app)
    app.put_json(f"{RECORDS}/r1", {"data": {}}, headers=ALICE, status=201)
    seen = app.get("/v1/__outbox__", headers=ALICE).json
    assert seen["listeners"] == {"broken": {"backlog": 0, "queue_depth": None}}
    assert seen["dead_total"] == 3
    assert [d["message"]["resource_name"] for d in seen["dead"]] == [
        "bucket",
        "collection",
        "record",
    ]
    assert seen["dead"][0]["last_error"]
    bad = app.post_json("/v1/__outbox__/replay", {"listener": 3}, headers=ALICE, status=400)
    assert bad.json["message"] == "listener must be a listener's name, got 3"
    bad = app.post("/v1/__outbox__/replay", "{", headers={**ALICE, **JSON_TYPE}, status=400)
    assert bad.json["message"] == 'The body must be JSON: {"listener": name}'
    replayed = app.post_json("/v1/__outbox__/replay", {"listener": "broken"}, headers=ALICE)
    assert replayed.json == {"replayed": 3}
    after = app.get("/v1/__outbox__", headers=ALICE).json
    assert (after["dead_total"], after["listeners"]["broken"]["backlog"]) == (0, 3)
