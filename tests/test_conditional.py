"""ETag, Last-Modified and the If-Match / If-None-Match preconditions."""

from __future__ import annotations

from email.utils import parsedate_to_datetime

import pytest
from webtest import TestApp

from tests.conftest import ALICE

RECORD = "/v1/buckets/b/collections/c/records/r"
RECORDS = "/v1/buckets/b/collections/c/records"
STALE_MESSAGE = (
    "The object changed since the version you sent in If-Match (or exists, for "
    "If-None-Match: *); fetch it again and retry"
)


@pytest.fixture
def record(app: TestApp) -> dict[str, object]:
    app.put_json("/v1/buckets/b", {}, headers=ALICE)
    app.put_json("/v1/buckets/b/collections/c", {}, headers=ALICE)
    data: dict[str, object] = app.put_json(RECORD, {"data": {"n": 1}}, headers=ALICE).json["data"]
    return data


def etag(obj: dict[str, object]) -> str:
    return f'"{obj["last_modified"]}"'


def test_etag_and_last_modified(app: TestApp, record: dict[str, object]) -> None:
    response = app.get(RECORD, headers=ALICE)
    assert response.headers["ETag"] == etag(record)
    last_modified = parsedate_to_datetime(response.headers["Last-Modified"])
    assert int(last_modified.timestamp()) == int(record["last_modified"]) // 1000  # type: ignore[call-overload]


def test_if_none_match_current_gives_304(app: TestApp, record: dict[str, object]) -> None:
    response = app.get(RECORD, headers={**ALICE, "If-None-Match": etag(record)}, status=304)
    assert response.headers["ETag"] == etag(record)
    assert response.body == b""


def test_if_none_match_stale_gives_the_object(app: TestApp, record: dict[str, object]) -> None:
    app.get(RECORD, headers={**ALICE, "If-None-Match": '"1"'}, status=200)


def test_list_if_none_match_current_gives_304(app: TestApp, record: dict[str, object]) -> None:
    stamp = app.get(RECORDS, headers=ALICE).headers["ETag"]
    app.get(RECORDS, headers={**ALICE, "If-None-Match": stamp}, status=304)
    app.put_json(f"{RECORDS}/other", {}, headers=ALICE)
    app.get(RECORDS, headers={**ALICE, "If-None-Match": stamp}, status=200)


def test_get_if_match_stale_is_412(app: TestApp, record: dict[str, object]) -> None:
    response = app.get(RECORD, headers={**ALICE, "If-Match": '"1"'}, status=412)
    assert response.json["errno"] == 114
    assert response.json["message"] == STALE_MESSAGE


@pytest.mark.parametrize("method", ["put_json", "patch_json", "delete"])
def test_write_with_stale_if_match_is_412_with_existing(
    app: TestApp, record: dict[str, object], method: str
) -> None:
    headers = {**ALICE, "If-Match": '"1"'}
    call = getattr(app, method)
    if method == "delete":
        response = call(RECORD, headers=headers, status=412)
    else:
        response = call(RECORD, {"data": {"n": 2}}, headers=headers, status=412)
    assert response.json["errno"] == 114
    assert response.json["message"] == STALE_MESSAGE
    assert response.json["details"]["existing"] == record
    assert app.get(RECORD, headers=ALICE).json["data"] == record


def test_write_with_current_if_match_succeeds(app: TestApp, record: dict[str, object]) -> None:
    headers = {**ALICE, "If-Match": etag(record)}
    updated = app.put_json(RECORD, {"data": {"n": 2}}, headers=headers, status=200).json["data"]
    assert updated["n"] == 2
    app.put_json(RECORD, {"data": {"n": 3}}, headers=headers, status=412)


def test_if_none_match_star_refuses_to_overwrite(app: TestApp, record: dict[str, object]) -> None:
    headers = {**ALICE, "If-None-Match": "*"}
    response = app.put_json(RECORD, {"data": {"n": 9}}, headers=headers, status=412)
    assert response.json["details"]["existing"] == record
    app.put_json(f"{RECORDS}/new", {"data": {"n": 9}}, headers=headers, status=201)


def test_post_if_none_match_star_on_existing_id(app: TestApp, record: dict[str, object]) -> None:
    headers = {**ALICE, "If-None-Match": "*"}
    body = {"data": {"id": "r"}}
    response = app.post_json(RECORDS, body, headers=headers, status=412)
    assert response.json["details"]["existing"] == record


def test_if_match_star_on_a_missing_object_is_412(app: TestApp, record: dict[str, object]) -> None:
    headers = {**ALICE, "If-Match": "*"}
    response = app.put_json(f"{RECORDS}/new", {}, headers=headers, status=412)
    assert response.json["details"]["existing"] is None
    app.put_json(RECORD, {}, headers=headers, status=200)


def test_plural_delete_with_stale_if_match_is_412(app: TestApp, record: dict[str, object]) -> None:
    app.delete(RECORDS, headers={**ALICE, "If-Match": '"1"'}, status=412)
    assert app.get(RECORD, headers=ALICE).json["data"] == record


def test_malformed_if_match_is_400(app: TestApp, record: dict[str, object]) -> None:
    response = app.get(RECORD, headers={**ALICE, "If-Match": "abc"}, status=400)
    assert response.json["message"] == (
        "If-Match in headers: must be a quoted timestamp like \"1600000000000\" or *, got 'abc'"
    )
