"""Who may read and write what: principals, inheritance, 401 versus 403."""

from __future__ import annotations

import pytest
from webtest import TestApp

from tests.conftest import ALICE, ALICE_ID, BOB, BOB_ID
from tests.helpers import open_app

BUCKET = "/v1/buckets/b"
COLLECTION = f"{BUCKET}/collections/c"
RECORDS = f"{COLLECTION}/records"
UNAUTHENTICATED = "Authentication required: send Basic credentials (Authorization: Basic ...)"


@pytest.fixture
def alices(app: TestApp) -> None:
    """Alice's bucket b, collection c and record r, shared with nobody."""
    app.put_json(BUCKET, {}, headers=ALICE)
    app.put_json(COLLECTION, {}, headers=ALICE)
    app.put_json(f"{RECORDS}/r", {"data": {"n": 1}}, headers=ALICE)


def forbidden(permission: str, uri: str) -> str:
    return f"This user lacks the {permission!r} permission on {uri}"


@pytest.mark.parametrize(
    ("url", "uri"),
    [
        (BUCKET, "/buckets/b"),
        (COLLECTION, "/buckets/b/collections/c"),
        (f"{RECORDS}/r", "/buckets/b/collections/c/records/r"),
        (RECORDS, "/buckets/b/collections/c"),
        (f"{BUCKET}/collections", "/buckets/b"),
    ],
)
def test_another_user_cannot_read(app: TestApp, alices: None, url: str, uri: str) -> None:
    response = app.get(url, headers=BOB, status=403)
    assert response.json["errno"] == 121
    assert response.json["message"] == forbidden("read", uri)


def test_without_credentials_it_is_401(app: TestApp, alices: None) -> None:
    response = app.get(f"{RECORDS}/r", status=401)
    assert response.json["errno"] == 104
    assert response.json["message"] == UNAUTHENTICATED
    assert response.headers["WWW-Authenticate"] == 'Basic realm="notifier"'


@pytest.mark.parametrize("header", ["Basic !!!", "Basic " + "bm9jb2xvbg==", "Bearer x"])
def test_unusable_credentials_count_as_none(app: TestApp, alices: None, header: str) -> None:
    response = app.get(BUCKET, headers={"Authorization": header}, status=401)
    assert response.json["message"] == UNAUTHENTICATED


def test_anonymous_cannot_create_a_bucket(app: TestApp) -> None:
    response = app.put_json("/v1/buckets/x", {}, status=401)
    assert response.json["message"] == UNAUTHENTICATED


def test_anonymous_bucket_list_is_401(app: TestApp) -> None:
    app.get("/v1/buckets", status=401)


def test_another_user_cannot_write(app: TestApp, alices: None) -> None:
    response = app.put_json(f"{RECORDS}/r", {"data": {}}, headers=BOB, status=403)
    assert response.json["message"] == forbidden("write", "/buckets/b/collections/c/records/r")
    app.patch_json(BUCKET, {"data": {"x": 1}}, headers=BOB, status=403)
    app.delete(COLLECTION, headers=BOB, status=403)
    response = app.post_json(RECORDS, {"data": {}}, headers=BOB, status=403)
    assert response.json["message"] == forbidden("record:create", "/buckets/b/collections/c")
    app.delete(RECORDS, headers=BOB, status=403)


def test_missing_and_unreadable_look_the_same(app: TestApp, alices: None) -> None:
    missing = app.get(f"{BUCKET}/collections/nope", headers=BOB, status=403).json
    assert missing["message"] == forbidden("read", "/buckets/b/collections/nope")
    app.get("/v1/buckets/nope", headers=BOB, status=403)
    app.get("/v1/buckets/nope/collections/c/records", headers=ALICE, status=403)


def test_read_principal_allows_reading_below_but_not_writing(app: TestApp, alices: None) -> None:
    app.patch_json(BUCKET, {"permissions": {"read": [BOB_ID]}}, headers=ALICE)
    app.get(BUCKET, headers=BOB, status=200)
    assert app.get(f"{RECORDS}/r", headers=BOB).json["data"]["n"] == 1
    assert "permissions" not in app.get(f"{RECORDS}/r", headers=BOB).json
    assert [each["id"] for each in app.get(RECORDS, headers=BOB).json["data"]] == ["r"]
    app.put_json(f"{RECORDS}/r", {"data": {}}, headers=BOB, status=403)
    app.get(f"{RECORDS}/nope", headers=BOB, status=404)


def test_write_principal_allows_writing(app: TestApp, alices: None) -> None:
    app.patch_json(COLLECTION, {"permissions": {"write": [BOB_ID]}}, headers=ALICE)
    app.put_json(f"{RECORDS}/r", {"data": {"n": 2}}, headers=BOB, status=200)
    app.post_json(RECORDS, {"data": {"id": "bobs"}}, headers=BOB, status=201)
    app.delete(f"{RECORDS}/r", headers=BOB, status=200)
    app.put_json(BUCKET, {"data": {}}, headers=BOB, status=403)


def test_record_create_lets_a_user_add_without_reading_others(app: TestApp, alices: None) -> None:
    app.patch_json(COLLECTION, {"permissions": {"record:create": [BOB_ID]}}, headers=ALICE)
    app.post_json(RECORDS, {"data": {"id": "bobs"}}, headers=BOB, status=201)
    assert [each["id"] for each in app.get(RECORDS, headers=BOB).json["data"]] == ["bobs"]
    app.get(f"{RECORDS}/r", headers=BOB, status=403)
    app.put_json(f"{RECORDS}/r", {}, headers=BOB, status=403)


def test_a_record_created_again_has_none_of_its_old_permissions(app: TestApp, alices: None) -> None:
    app.patch_json(f"{RECORDS}/r", {"permissions": {"read": [BOB_ID]}}, headers=ALICE)
    app.get(f"{RECORDS}/r", headers=BOB, status=200)
    app.delete(f"{RECORDS}/r", headers=ALICE)
    created = app.put_json(f"{RECORDS}/r", {"data": {"n": 2}}, headers=ALICE, status=201)
    assert created.json["permissions"] == {"write": [ALICE_ID]}
    app.get(f"{RECORDS}/r", headers=BOB, status=403)


def test_post_of_an_existing_id_does_not_leak_it(app: TestApp, alices: None) -> None:
    app.patch_json(COLLECTION, {"permissions": {"record:create": [BOB_ID]}}, headers=ALICE)
    body = {"data": {"id": "r"}}
    response = app.post_json(RECORDS, body, headers=BOB, status=403)
    assert response.json["message"] == forbidden("read", "/buckets/b/collections/c/records/r")
    headers = {**BOB, "If-None-Match": "*"}
    response = app.post_json(RECORDS, body, headers=headers, status=403)
    assert "details" not in response.json


def test_everyone_principal_opens_to_anonymous(app: TestApp, alices: None) -> None:
    app.patch_json(COLLECTION, {"permissions": {"read": ["system.Everyone"]}}, headers=ALICE)
    assert app.get(f"{RECORDS}/r").json["data"]["n"] == 1
    assert len(app.get(RECORDS).json["data"]) == 1
    app.get(BUCKET, status=401)


def test_authenticated_principal_needs_credentials(app: TestApp, alices: None) -> None:
    body = {"permissions": {"read": ["system.Authenticated"]}}
    app.patch_json(f"{RECORDS}/r", body, headers=ALICE)
    app.get(f"{RECORDS}/r", status=401)
    app.get(f"{RECORDS}/r", headers=BOB, status=200)


def test_lists_show_only_readable_objects(app: TestApp, alices: None) -> None:
    app.put_json(f"{RECORDS}/shared", {"permissions": {"read": [BOB_ID]}}, headers=ALICE)
    assert [each["id"] for each in app.get(RECORDS, headers=BOB).json["data"]] == ["shared"]
    assert len(app.get(RECORDS, headers=ALICE).json["data"]) == 2
    app.put_json("/v1/buckets/open", {"permissions": {"read": ["system.Everyone"]}}, headers=ALICE)
    app.put_json("/v1/buckets/bobs", {}, headers=BOB)
    buckets = app.get("/v1/buckets", headers=BOB).json["data"]
    assert sorted(each["id"] for each in buckets) == ["bobs", "open"]
    response = app.head(RECORDS, headers=BOB)
    assert response.headers["Total-Objects"] == "1"


def test_plural_delete_removes_only_what_the_user_may_write(app: TestApp, alices: None) -> None:
    app.patch_json(COLLECTION, {"permissions": {"record:create": [BOB_ID]}}, headers=ALICE)
    app.post_json(RECORDS, {"data": {"id": "bobs"}}, headers=BOB, status=201)
    deleted = app.delete(RECORDS, headers=BOB).json["data"]
    assert [each["id"] for each in deleted] == ["bobs"]
    app.get(f"{RECORDS}/r", headers=ALICE, status=200)


def test_bucket_create_principals_setting(settings: dict[str, str]) -> None:

    settings["notifier.bucket_create_principals"] = BOB_ID
    app = open_app(**settings)
    response = app.put_json("/v1/buckets/x", {}, headers=ALICE, status=403)
    assert response.json["message"] == "This user lacks the 'bucket:create' permission on /"
    app.put_json("/v1/buckets/x", {}, headers=BOB, status=201)
