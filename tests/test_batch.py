"""``POST /v1/batch``: one transaction; 4xx reported in place, 5xx fails it all."""

from __future__ import annotations

from typing import Any

import pytest
from webtest import TestApp

from notifier.storage.sqlite import SQLiteSession
from tests.conftest import ALICE, BOB
from tests.helpers import open_app

RECORDS = "/buckets/b/collections/c/records"


def batch(app: TestApp, body: dict[str, Any], status: int = 200, **kw: Any) -> Any:
    return app.post_json("/v1/batch", body, headers=kw.get("headers", ALICE), status=status).json


def setup_requests() -> list[dict[str, Any]]:
    return [
        {"method": "PUT", "path": "/buckets/b"},
        {"method": "PUT", "path": "/buckets/b/collections/c"},
    ]


def test_requests_run_in_order_with_defaults(app: TestApp) -> None:
    requests = [
        *setup_requests(),
        {"path": RECORDS, "body": {"data": {"id": "r1", "n": 1}}},
        {"path": RECORDS, "body": {"data": {"id": "r2", "n": 2}}},
        {"method": "GET", "path": RECORDS + "?_sort=n"},
    ]
    body = {"defaults": {"method": "POST"}, "requests": requests}
    responses = batch(app, body)["responses"]
    assert [each["status"] for each in responses] == [201, 201, 201, 201, 200]
    assert responses[2]["path"] == "/v1" + RECORDS
    assert responses[2]["body"]["data"]["id"] == "r1"
    assert [each["id"] for each in responses[4]["body"]["data"]] == ["r1", "r2"]
    assert "ETag" in responses[4]["headers"]


def test_a_4xx_is_reported_in_place_and_the_others_apply(app: TestApp) -> None:
    requests = [
        *setup_requests(),
        {"method": "PUT", "path": f"{RECORDS}/ok1", "body": {"data": {}}},
        {"method": "PUT", "path": f"{RECORDS}/bad.id", "body": {"data": {}}},
        {"method": "GET", "path": f"{RECORDS}/missing"},
        {"method": "PUT", "path": f"{RECORDS}/ok2", "body": {"data": {}}},
    ]
    responses = batch(app, {"requests": requests})["responses"]
    assert [each["status"] for each in responses] == [201, 201, 201, 400, 404, 201]
    assert responses[3]["body"]["errno"] == 110
    assert responses[4]["body"]["message"] == (
        "There is no record 'missing' at /buckets/b/collections/c"
    )
    listed = app.get(f"/v1{RECORDS}", headers=ALICE).json["data"]
    assert sorted(each["id"] for each in listed) == ["ok1", "ok2"]


def test_a_server_error_fails_the_whole_batch(
    app: TestApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_create = SQLiteSession.create
    calls = []

    def create_failing_the_third(self: SQLiteSession, *args: Any) -> dict[str, Any]:
        calls.append(args)
        if len(calls) == 3:
            raise RuntimeError("injected fault")
        return real_create(self, *args)

    monkeypatch.setattr(SQLiteSession, "create", create_failing_the_third)
    requests = [
        {"method": "POST", "path": "/buckets", "body": {"data": {"id": "b"}}},
        {"method": "POST", "path": "/buckets/b/collections", "body": {"data": {"id": "c"}}},
        {"method": "POST", "path": RECORDS, "body": {"data": {"id": "r"}}},
        {"method": "POST", "path": RECORDS, "body": {"data": {"id": "s"}}},
    ]
    response = batch(app, {"requests": requests}, status=500)
    assert response["message"] == "An unexpected error occurred; it has been logged on the server"
    monkeypatch.undo()
    app.get("/v1/buckets/b", headers=ALICE, status=403)
    assert app.get("/v1/buckets", headers=ALICE).json["data"] == []


def test_each_subrequest_may_carry_its_own_credentials(app: TestApp) -> None:
    requests = [
        {"method": "PUT", "path": "/buckets/alices"},
        {"method": "GET", "path": "/buckets/alices", "headers": BOB},
        {"method": "PUT", "path": "/buckets/bobs", "headers": BOB},
    ]
    responses = batch(app, {"requests": requests})["responses"]
    assert [each["status"] for each in responses] == [201, 403, 201]


def test_default_bucket_in_a_batch(app: TestApp) -> None:
    requests = [
        {"method": "POST", "path": "/buckets/default/collections/tasks/records"},
        {"method": "POST", "path": "/buckets/default/collections/tasks/records"},
    ]
    responses = batch(app, {"requests": requests})["responses"]
    assert [each["status"] for each in responses] == [201, 201]
    listed = app.get("/v1/buckets/default/collections/tasks/records", headers=ALICE)
    assert len(listed.json["data"]) == 2


def test_over_the_maximum_is_a_400_naming_the_setting(settings: dict[str, str]) -> None:
    settings["notifier.batch_max_requests"] = "2"
    app = open_app(**settings)
    requests = [{"path": "/buckets"}] * 3
    response = batch(app, {"requests": requests}, status=400)
    assert response["errno"] == 107
    assert response["message"] == (
        "requests in body: must hold 1 to 2 requests (notifier.batch_max_requests), got 3"
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"request": []},
            'requests in body: must be a list: {"requests": [{"method": ..., "path": ...}]}',
        ),
        (
            {"requests": []},
            "requests in body: must hold 1 to 25 requests (notifier.batch_max_requests), got 0",
        ),
        ({"requests": ["x"]}, "requests[0] in body: must be an object with a path"),
        (
            {"requests": [{"path": "buckets"}]},
            "requests[0].path in body: must be a path like /buckets/b",
        ),
        (
            {"requests": [{"path": "/buckets", "method": "TRACE"}]},
            "requests[0].method in body: must be one of GET, HEAD, POST, PUT, PATCH, DELETE",
        ),
        (
            {"requests": [{"path": "/batch"}]},
            "requests[0].path in body:"
            " a batch cannot contain a batch (however its path is spelled)",
        ),
        ({"requests": [{"path": "/"}], "defaults": 3}, "defaults in body: must be an object"),
    ],
)
def test_malformed_batches(app: TestApp, body: dict[str, Any], message: str) -> None:
    assert batch(app, body, status=400)["message"] == message


def test_unknown_path_in_a_batch_is_a_404_in_place(app: TestApp) -> None:
    responses = batch(app, {"requests": [{"path": "/nowhere"}]})["responses"]
    assert responses[0]["status"] == 404
    assert responses[0]["body"]["message"] == "/v1/nowhere is not a URL of this server"


def test_patch_and_delete_in_a_batch(app: TestApp) -> None:
    requests = [
        *setup_requests(),
        {"method": "PUT", "path": f"{RECORDS}/r", "body": {"data": {"a": 1}}},
        {"method": "PATCH", "path": f"{RECORDS}/r", "body": {"data": {"b": 2}}},
        {"method": "DELETE", "path": f"{RECORDS}/gone"},
    ]
    responses = batch(app, {"requests": requests})["responses"]
    assert [each["status"] for each in responses] == [201, 201, 201, 200, 404]
    data = responses[3]["body"]["data"]
    assert (data["a"], data["b"]) == (1, 2)


@pytest.mark.parametrize("header", ["Content-Type", "content-type"])
def test_a_subrequest_content_type_is_honoured(app: TestApp, header: str) -> None:
    app.put_json("/v1/buckets/b", {}, headers=ALICE)
    operations = [{"op": "add", "path": "/data/x", "value": 1}]
    request = {
        "method": "PATCH",
        "path": "/buckets/b",
        "headers": {header: "application/json-patch+json"},
        "body": operations,
    }
    responses = batch(app, {"requests": [request]})["responses"]
    assert responses[0]["status"] == 200
    assert responses[0]["body"]["data"]["x"] == 1
