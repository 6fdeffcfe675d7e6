"""Every HTTP error is Kinto's JSON, and its message tells the client what to change."""

from __future__ import annotations

import pytest
import webtest
from webtest import TestApp

from tests.conftest import ALICE
from tests.helpers import open_app

RECORDS = "/v1/buckets/b/collections/c/records"


@pytest.fixture
def collection(app: TestApp) -> str:
    app.put_json("/v1/buckets/b", {}, headers=ALICE)
    app.put_json("/v1/buckets/b/collections/c", {}, headers=ALICE)
    return RECORDS


def error(response: webtest.TestResponse, code: int, errno: int) -> str:
    """Check the shape of an error body and return its message."""
    body = response.json
    assert response.content_type == "application/json"
    assert body["code"] == code
    assert body["errno"] == errno
    assert body["error"]
    message: str = body["message"]
    return message


def test_malformed_json(app: TestApp, collection: str) -> None:
    response = app.post(
        collection, "{nope", headers={**ALICE, "Content-Type": "application/json"}, status=400
    )
    assert error(response, 400, 106) == (
        "The body is not valid JSON: Expecting property name enclosed in double quotes:"
        " line 1 column 2 (char 1)"
    )


def test_body_must_be_an_object(app: TestApp, collection: str) -> None:
    response = app.post_json(collection, [1, 2], headers=ALICE, status=400)
    assert error(response, 400, 107) == (
        'body in body: must be a JSON object: {"data": {...}, "permissions": {...}}'
    )


def test_body_over_the_limit(settings: dict[str, str]) -> None:
    settings["notifier.max_request_body_bytes"] = "100"
    app = open_app(**settings)
    body = {"data": {"text": "x" * 200}}
    response = app.put_json("/v1/buckets/b", body, headers=ALICE, status=413)
    length = response.request.content_length
    assert error(response, 413, 113) == (
        f"The request body is {length} bytes; the limit is 100 (notifier.max_request_body_bytes)"
    )
    app.get("/v1/buckets/b", headers=ALICE, status=403)


@pytest.mark.parametrize("bad_id", ["a%20b", "-a", "a.b", "x" * 256])
def test_invalid_id_in_the_url(app: TestApp, collection: str, bad_id: str) -> None:
    response = app.put_json(f"{collection}/{bad_id}", {}, headers=ALICE, status=400)
    shown = bad_id.replace("%20", " ")
    assert error(response, 400, 110) == (
        f"Invalid id {shown!r} in path: ids are 1 to 255 letters, digits, '-' or '_',"
        " starting with a letter or a digit"
    )


def test_invalid_parent_id_in_the_url(app: TestApp) -> None:
    response = app.get("/v1/buckets/b.c/collections", headers=ALICE, status=400)
    assert error(response, 400, 110).startswith("Invalid id 'b.c' in path")
    assert response.json["details"][0]["name"] == "bucket_id"


def test_invalid_id_in_the_body(app: TestApp, collection: str) -> None:
    response = app.post_json(collection, {"data": {"id": 12}}, headers=ALICE, status=400)
    assert error(response, 400, 110).startswith("Invalid id 12 in body:")
    assert response.json["details"][0]["name"] == "data.id"


def test_unknown_underscore_parameter(app: TestApp, collection: str) -> None:
    response = app.get(f"{collection}?_lmit=3", headers=ALICE, status=400)
    assert error(response, 400, 107) == (
        "_lmit in querystring: unknown parameter; accepted: _limit, _token, _since, _before,"
        " _sort, _fields, _expected and field filters"
    )


@pytest.mark.parametrize("value", ["x", "0", "10001", "-1"])
def test_bad_limit(app: TestApp, collection: str, value: str) -> None:
    response = app.get(f"{collection}?_limit={value}", headers=ALICE, status=400)
    assert error(response, 400, 107) == (
        f"_limit in querystring: must be an integer between 1 and 10000, got {value!r}"
    )


def test_bad_since(app: TestApp, collection: str) -> None:
    response = app.get(f"{collection}?_since=yesterday", headers=ALICE, status=400)
    assert error(response, 400, 107) == (
        "_since in querystring: must be an integer, got 'yesterday'"
    )


def test_bad_token(app: TestApp, collection: str) -> None:
    response = app.get(f"{collection}?_token=garbage", headers=ALICE, status=400)
    assert error(response, 400, 107) == (
        "_token in querystring: is not a pagination token this server gave;"
        " use the URL of the Next-Page header as it is"
    )


def test_bad_field_name(app: TestApp, collection: str) -> None:
    response = app.get(f"{collection}?_sort=a%24b", headers=ALICE, status=400)
    assert error(response, 400, 107) == (
        "_sort in querystring: field names are letters, digits, '_' and '-',"
        " dotted for nested fields"
    )


def test_bad_has_value(app: TestApp, collection: str) -> None:
    response = app.get(f"{collection}?has_x=maybe", headers=ALICE, status=400)
    assert error(response, 400, 107) == "has_x in querystring: must be true or false, got 'maybe'"


def test_bad_last_modified_filter(app: TestApp, collection: str) -> None:
    response = app.get(f"{collection}?min_last_modified=soon", headers=ALICE, status=400)
    assert error(response, 400, 107) == (
        "min_last_modified in querystring: must be an integer, got 'soon'"
    )


def test_missing_object_is_errno_110_as_in_kinto(app: TestApp, collection: str) -> None:
    response = app.get(f"{collection}/nope", headers=ALICE, status=404)
    assert error(response, 404, 110) == "There is no record 'nope' at /buckets/b/collections/c"
    assert response.json["details"] == {"id": "nope", "resource_name": "record"}


def test_missing_parent_is_errno_111_as_in_kinto(app: TestApp, collection: str) -> None:
    response = app.get("/v1/buckets/b/collections/nope/records/r", headers=ALICE, status=404)
    assert error(response, 404, 111) == "There is no collection 'nope' at /buckets/b"
    assert response.json["details"] == {"id": "nope", "resource_name": "collection"}


def test_method_not_allowed(app: TestApp) -> None:
    response = app.put_json("/v1/buckets", {}, headers=ALICE, status=405)
    assert error(response, 405, 115) == "PUT is not allowed on /v1/buckets"


def test_precondition_failed(app: TestApp, collection: str) -> None:
    app.put_json(f"{collection}/r", {}, headers=ALICE)
    response = app.delete(f"{collection}/r", headers={**ALICE, "If-Match": '"1"'}, status=412)
    assert error(response, 412, 114).startswith("The object changed since the version you sent")


@pytest.mark.parametrize("path", ["/v1/nope", "/v2/buckets", "/v1/buckets/b/widgets"])
def test_unknown_url(app: TestApp, path: str) -> None:
    response = app.get(path, headers=ALICE, status=404)
    assert error(response, 404, 111) == f"{path} is not a URL of this server"


def test_crash_is_a_500_that_hides_the_details(
    app: TestApp, collection: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from notifier.storage.sqlite import SQLiteSession

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(SQLiteSession, "create", explode)
    response = app.post_json(collection, {"data": {}}, headers=ALICE, status=500)
    assert error(response, 500, 999) == (
        "An unexpected error occurred; it has been logged on the server"
    )


def test_storage_failure_is_a_503(
    app: TestApp, collection: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from notifier.storage import StorageError
    from notifier.storage.sqlite import SQLiteSession

    def unavailable(*args: object, **kwargs: object) -> None:
        raise StorageError("sqlite: database is locked")

    monkeypatch.setattr(SQLiteSession, "list_json", unavailable)
    response = app.get(collection, headers=ALICE, status=503)
    assert error(response, 503, 201) == "The storage backend is unavailable; retry later"
    assert response.headers["Retry-After"] == "5"


def test_a_nul_character_is_refused_on_every_backend(app: TestApp) -> None:
    body = b'{"data": {"title": "a\\u0000b"}}'
    response = app.put(
        "/v1/buckets/b", body, headers={**ALICE, "Content-Type": "application/json"}, status=400
    )
    assert response.json["message"] == (
        "body in body: strings cannot contain the NUL character \\u0000"
    )
    app.get("/v1/buckets/b", headers=ALICE, status=403)


def test_a_backslash_u_text_is_not_a_nul(app: TestApp) -> None:
    body = b'{"data": {"title": "a\\\\u0000b"}}'
    response = app.put(
        "/v1/buckets/b", body, headers={**ALICE, "Content-Type": "application/json"}, status=201
    )
    assert response.json["data"]["title"] == "a\\u0000b"
