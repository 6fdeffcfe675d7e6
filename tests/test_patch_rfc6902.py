"""PATCH works on a copy: nested edits are stored and told, with the true old object (issue 14)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import webtest

from tests.apps import running
from tests.conftest import ALICE, SECRET

RECORD = "/v1/buckets/b/collections/c/records/r"
JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
ORIGINAL = {"l": [1, 2], "deep": {"x": {"y": 1}}, "title": "t"}


class Captured:
    """A real listener module's callable: keeps every event it is given."""

    events: list[Any] = []


def load_from_config(config: Any, prefix: str) -> Any:
    Captured.events = []
    return Captured.events.append


@pytest.fixture
def app(backend_settings: dict[str, str]) -> Iterator[webtest.TestApp]:
    settings = {
        **backend_settings,
        "notifier.userid_hmac_secret": SECRET,
        "notifier.max_request_body_bytes": "60000",
        "notifier.relay.in_process": "false",
        "notifier.event_listeners": "capture",
        "notifier.event_listeners.capture.use": __name__,
    }
    with running(settings) as wsgi_app:
        yield prepared(webtest.TestApp(wsgi_app))


def prepared(app: webtest.TestApp) -> webtest.TestApp:
    app.put_json("/v1/buckets/b", {}, headers=ALICE)
    app.put_json("/v1/buckets/b/collections/c", {}, headers=ALICE)
    app.put_json(RECORD, {"data": ORIGINAL}, headers=ALICE)
    Captured.events.clear()
    return app


def patch(app: webtest.TestApp, body: Any, content_type: str, status: int = 200) -> Any:
    headers = {**ALICE, "Content-Type": content_type}
    return app.patch(RECORD, json.dumps(body), headers=headers, status=status).json


def stored(app: webtest.TestApp) -> dict[str, Any]:
    data: dict[str, Any] = app.get(RECORD, headers=ALICE).json["data"]
    return {k: v for k, v in data.items() if k not in ("id", "last_modified")}


def only_event(kind: str = "update") -> dict[str, Any]:
    assert len(Captured.events) == 1
    event = Captured.events[0]
    assert event.payload["action"] == kind
    impacted: dict[str, Any] = event.impacted_objects[0]
    return impacted


def test_a_nested_json_patch_edit_is_stored_and_told(app: webtest.TestApp) -> None:
    patch(app, [{"op": "replace", "path": "/data/l/0", "value": 9}], JSON_PATCH)
    assert stored(app)["l"] == [9, 2]
    impacted = only_event()
    assert impacted["old"]["l"] == [1, 2]
    assert impacted["new"]["l"] == [9, 2]


def test_the_old_object_is_untouched_when_a_top_field_changes_too(app: webtest.TestApp) -> None:
    operations = [
        {"op": "add", "path": "/data/deep/x/z", "value": 2},
        {"op": "replace", "path": "/data/title", "value": "u"},
    ]
    patch(app, operations, JSON_PATCH)
    impacted = only_event()
    assert impacted["old"]["deep"] == {"x": {"y": 1}}
    assert impacted["old"]["title"] == "t"
    assert impacted["new"]["deep"] == {"x": {"y": 1, "z": 2}}


def test_a_nested_merge_patch_keeps_the_true_old(app: webtest.TestApp) -> None:
    patch(app, {"data": {"deep": {"x": {"y": 5}}}}, MERGE_PATCH)
    assert stored(app)["deep"] == {"x": {"y": 5}}
    impacted = only_event()
    assert impacted["old"]["deep"] == {"x": {"y": 1}}


def test_a_patch_that_changes_nothing_tells_nothing(app: webtest.TestApp) -> None:
    patch(app, [{"op": "replace", "path": "/data/l/0", "value": 1}], JSON_PATCH)
    assert Captured.events == []


def test_rfc_6902_appendix_a_operations(app: webtest.TestApp) -> None:
    operations = [
        {"op": "add", "path": "/data/l/1", "value": "in"},
        {"op": "add", "path": "/data/l/-", "value": "end"},
        {"op": "add", "path": "/data/l/4", "value": "past-last"},
        {"op": "move", "from": "/data/l/0", "path": "/data/l/4"},
        {"op": "copy", "from": "/data/deep", "path": "/data/deep/x/copy"},
        {"op": "test", "path": "/data/deep/x/copy", "value": {"x": {"y": 1.0}}},
        {"op": "remove", "path": "/data/title"},
        {"op": "add", "path": "/data/a~1b", "value": {"~": 1}},
        {"op": "replace", "path": "/data/a~1b/~0", "value": 2},
    ]
    patch(app, operations, JSON_PATCH)
    assert stored(app) == {
        "l": ["in", 2, "end", "past-last", 1],
        "deep": {"x": {"y": 1, "copy": {"x": {"y": 1}}}},
        "a/b": {"~": 2},
    }


@pytest.mark.parametrize(
    ("operation", "message"),
    [
        (
            {"op": "replace", "path": "/data/l/abc", "value": 1},
            "/data/l/abc: 'abc' is not an array index (0, 1, ...; - to append)",
        ),
        (
            {"op": "replace", "path": "/data/l/01", "value": 1},
            "/data/l/01: '01' is not an array index (0, 1, ...; - to append)",
        ),
        (
            {"op": "replace", "path": "/data/l/\u00b2", "value": 1},
            "/data/l/\u00b2: '\u00b2' is not an array index (0, 1, ...; - to append)",
        ),
        (
            {"op": "add", "path": "/data/l/3", "value": 1},
            "/data/l/3: index 3 is past the end of the array (2)",
        ),
        (
            {"op": "remove", "path": "/data/l/2"},
            "/data/l/2: index 2 is past the end of the array (2)",
        ),
        (
            {"op": "remove", "path": "/data/l/-"},
            "/data/l/-: '-' is not an array index (0, 1, ...; - to append)",
        ),
        (
            {"op": "add", "path": "/data/title/x", "value": 1},
            "/data/title/x: the parent is a str, not an object or an array",
        ),
        (
            {"op": "add", "path": "/data/missing/x", "value": 1},
            "/data/missing/x: there is no value at this path",
        ),
        (
            {"op": "replace", "path": "/data/nope", "value": 1},
            "/data/nope: there is no value at this path",
        ),
        ({"op": "add", "path": "/data/x"}, "add needs a value"),
        (
            {"op": "move", "from": "/data/deep", "path": "/data/deep/x/in"},
            "cannot move /data/deep into its own child /data/deep/x/in",
        ),
        (
            {"op": "copy", "from": "/data/none", "path": "/data/x"},
            "/data/none: there is no value at this path",
        ),
        (
            {"op": "copy", "path": "/data/x"},
            "from must be a JSON pointer like /data/title, got None",
        ),
        (
            {"op": "test", "path": "/data/l/0", "value": True},
            "test failed: the value at /data/l/0 differs from the one given",
        ),
        (
            {"op": "frobnicate", "path": "/data/x"},
            "op must be one of add, remove, replace, move, copy, test",
        ),
        (
            {"op": "add", "path": "data/x", "value": 1},
            "path must be a JSON pointer like /data/title, got 'data/x'",
        ),
    ],
)
def test_rfc_6902_errors(app: webtest.TestApp, operation: dict[str, Any], message: str) -> None:
    body = patch(app, [operation], JSON_PATCH, status=400)
    assert (body["errno"], body["message"]) == (107, f"body[0] in body: {message}")
    assert stored(app) == ORIGINAL
    assert Captured.events == []


def test_the_copy_doubling_attack_answers_413_fast(app: webtest.TestApp) -> None:
    operations = [
        {"op": "copy", "from": "/data/deep", "path": f"/data/deep/c{i}"} for i in range(40)
    ]
    started = time.monotonic()
    body = patch(app, operations, JSON_PATCH, status=413)
    assert time.monotonic() - started < 1
    assert (body["errno"], body["message"]) == (
        113,
        "The JSON Patch copies over 60000 bytes; the limit is notifier.max_request_body_bytes",
    )
    assert stored(app) == ORIGINAL


def test_a_patch_result_over_the_body_limit_is_413(app: webtest.TestApp) -> None:
    patch(app, {"data": {"a": "x" * 35000}}, MERGE_PATCH)
    body = patch(app, {"data": {"b": "y" * 35000}}, MERGE_PATCH, status=413)
    assert body["message"].startswith("The patched data would be 700")
    assert body["message"].endswith("bytes; the limit is 60000 (notifier.max_request_body_bytes)")
    assert "b" not in stored(app)


def test_a_patch_result_deeper_than_the_limit_is_400(app: webtest.TestApp) -> None:
    value: Any = 1
    for _ in range(30):
        value = [value]
    operations = [{"op": "add", "path": "/data/deep/x/y", "value": value}]
    body = patch(app, operations, JSON_PATCH, status=400)
    assert body["message"] == (
        "body[0] in body: /data/deep/x/y: the result would nest 34 levels; the limit is 32"
    )
    nested = [{"op": "copy", "from": "/data/deep", "path": "/data/deep/x/c"}] * 40
    body = patch(app, nested, JSON_PATCH, status=400)
    assert body["message"].endswith("levels; the limit is 32")
    assert stored(app) == ORIGINAL


def test_too_many_operations(app: webtest.TestApp) -> None:
    operations = [{"op": "test", "path": "/data/title", "value": "t"}] * 1001
    body = patch(app, operations, JSON_PATCH, status=400)
    assert body["message"] == "body in body: a JSON Patch holds at most 1000 operations, got 1001"
