"""PATCH: shallow merge, JSON merge patch (RFC 7396) and JSON Patch (RFC 6902)."""

from __future__ import annotations

import json

import pytest
from webtest import TestApp

from tests.conftest import ALICE, ALICE_ID, BOB, BOB_ID

RECORD = "/v1/buckets/b/collections/c/records/r"
ORIGINAL = {"title": "t", "nested": {"a": 1, "b": 2}, "tags": ["x"]}


@pytest.fixture
def record(app: TestApp) -> str:
    app.put_json("/v1/buckets/b", {}, headers=ALICE)
    app.put_json("/v1/buckets/b/collections/c", {}, headers=ALICE)
    app.put_json(RECORD, {"data": ORIGINAL}, headers=ALICE)
    return RECORD


def patch(app: TestApp, body: object, content_type: str, status: int = 200) -> dict:
    headers = {**ALICE, "Content-Type": content_type}
    response = app.patch(RECORD, json.dumps(body), headers=headers, status=status)
    result: dict = response.json
    return result


def fields(data: dict) -> dict:
    return {k: v for k, v in data.items() if k not in ("id", "last_modified")}


def test_json_is_a_shallow_merge(app: TestApp, record: str) -> None:
    data = patch(app, {"data": {"nested": {"a": 9}, "new": 1}}, "application/json")["data"]
    assert fields(data) == {"title": "t", "nested": {"a": 9}, "tags": ["x"], "new": 1}


def test_merge_patch_merges_deeply_and_null_removes(app: TestApp, record: str) -> None:
    body = {"data": {"nested": {"a": 9, "b": None}, "title": None}}
    data = patch(app, body, "application/merge-patch+json")["data"]
    assert fields(data) == {"nested": {"a": 9}, "tags": ["x"]}


def test_json_patch_operations(app: TestApp, record: str) -> None:
    operations = [
        {"op": "test", "path": "/data/title", "value": "t"},
        {"op": "replace", "path": "/data/title", "value": "u"},
        {"op": "add", "path": "/data/tags/-", "value": "y"},
        {"op": "remove", "path": "/data/nested/b"},
        {"op": "copy", "from": "/data/title", "path": "/data/copy"},
        {"op": "move", "from": "/data/copy", "path": "/data/moved"},
    ]
    data = patch(app, operations, "application/json-patch+json")["data"]
    assert fields(data) == {"title": "u", "nested": {"a": 1}, "tags": ["x", "y"], "moved": "u"}


def test_json_patch_grants_and_revokes_permissions(app: TestApp, record: str) -> None:
    app.get(RECORD, headers=BOB, status=403)
    grant = [{"op": "add", "path": f"/permissions/read/{BOB_ID}"}]
    permissions = patch(app, grant, "application/json-patch+json")["permissions"]
    assert permissions == {"read": [BOB_ID], "write": [ALICE_ID]}
    app.get(RECORD, headers=BOB, status=200)
    revoke = [{"op": "remove", "path": f"/permissions/read/{BOB_ID}"}]
    patch(app, revoke, "application/json-patch+json")
    app.get(RECORD, headers=BOB, status=403)


def test_json_patch_failed_test_changes_nothing(app: TestApp, record: str) -> None:
    operations = [
        {"op": "replace", "path": "/data/title", "value": "u"},
        {"op": "test", "path": "/data/title", "value": "t"},
    ]
    response = patch(app, operations, "application/json-patch+json", status=400)
    assert response["message"] == (
        "body[1] in body: test failed: the value at /data/title differs from the one given"
    )
    assert app.get(RECORD, headers=ALICE).json["data"]["title"] == "t"


@pytest.mark.parametrize(
    ("operations", "message"),
    [
        ({"op": "add"}, "body in body: a JSON Patch body is a list of operations"),
        (
            [{"op": "frobnicate", "path": "/data/x"}],
            "body[0] in body: op must be one of add, remove, replace, move, copy, test",
        ),
        (
            [{"op": "add", "path": "data/x", "value": 1}],
            "body[0] in body: path must be a JSON pointer like /data/title, got 'data/x'",
        ),
        (
            [{"op": "remove", "path": "/data/nope"}],
            "body[0] in body: /data/nope: there is no value at this path",
        ),
        (
            [{"op": "replace", "path": "/data", "value": 3}],
            "data in body: the patched data must stay a JSON object",
        ),
        (
            [{"op": "add", "path": "/permissions/read", "value": ["x"]}],
            "permissions in body: patch principals as /permissions/<perm>/<principal>",
        ),
    ],
)
def test_json_patch_errors(app: TestApp, record: str, operations: object, message: str) -> None:
    response = patch(app, operations, "application/json-patch+json", status=400)
    assert response["message"] == message


def test_patch_permissions_replaces_the_named_permission(app: TestApp, record: str) -> None:
    body = {"permissions": {"read": ["system.Everyone"]}}
    permissions = patch(app, body, "application/json")["permissions"]
    assert permissions == {"read": ["system.Everyone"], "write": [ALICE_ID]}
    app.get(RECORD, status=200)


def test_patch_of_a_missing_record_is_404(app: TestApp, record: str) -> None:
    response = app.patch_json(f"{RECORD}x", {"data": {}}, headers=ALICE, status=404)
    assert response.json["message"] == "There is no record 'rx' at /buckets/b/collections/c"


def test_patch_of_a_bucket(app: TestApp, record: str) -> None:
    response = app.patch_json("/v1/buckets/b", {"data": {"title": "B"}}, headers=ALICE)
    assert response.json["data"]["title"] == "B"
