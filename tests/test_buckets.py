"""Buckets: the plural and object endpoints at the root of the tree."""

from __future__ import annotations

from webtest import TestApp

from tests.conftest import ALICE, ALICE_ID, BOB


def test_post_creates_a_bucket_with_a_new_id(app: TestApp) -> None:
    response = app.post_json("/v1/buckets", {"data": {"title": "t"}}, headers=ALICE, status=201)
    data = response.json["data"]
    assert data["title"] == "t"
    assert data["id"] and data["last_modified"] > 0
    assert response.json["permissions"] == {"write": [ALICE_ID]}


def test_post_with_an_existing_id_returns_the_existing_bucket(app: TestApp) -> None:
    first = app.post_json("/v1/buckets", {"data": {"id": "b", "n": 1}}, headers=ALICE, status=201)
    again = app.post_json("/v1/buckets", {"data": {"id": "b", "n": 2}}, headers=ALICE, status=200)
    assert again.json["data"] == first.json["data"]


def test_put_creates_then_replaces(app: TestApp) -> None:
    app.put_json("/v1/buckets/b", {"data": {"a": 1}}, headers=ALICE, status=201)
    replaced = app.put_json("/v1/buckets/b", {"data": {"b": 2}}, headers=ALICE, status=200)
    assert replaced.json["data"]["b"] == 2
    assert "a" not in replaced.json["data"]


def test_put_without_a_body_creates_an_empty_bucket(app: TestApp) -> None:
    response = app.put("/v1/buckets/b", headers=ALICE, status=201)
    assert response.json["data"]["id"] == "b"


def test_get_returns_data_and_permissions(app: TestApp) -> None:
    app.put_json("/v1/buckets/b", {"data": {"a": 1}}, headers=ALICE)
    response = app.get("/v1/buckets/b", headers=ALICE, status=200)
    assert response.json["data"]["a"] == 1
    assert response.json["permissions"]["write"] == [ALICE_ID]


def test_head_has_headers_and_no_body(app: TestApp) -> None:
    created = app.put_json("/v1/buckets/b", {}, headers=ALICE).json["data"]
    response = app.head("/v1/buckets/b", headers=ALICE, status=200)
    assert response.body == b""
    assert response.headers["ETag"] == f'"{created["last_modified"]}"'


def test_list_shows_the_users_buckets(app: TestApp) -> None:
    app.put_json("/v1/buckets/b1", {}, headers=ALICE)
    app.put_json("/v1/buckets/b2", {}, headers=ALICE)
    app.put_json("/v1/buckets/bob", {}, headers=BOB)
    ids = [each["id"] for each in app.get("/v1/buckets", headers=ALICE).json["data"]]
    assert sorted(ids) == ["b1", "b2"]


def test_delete_returns_a_tombstone_and_the_bucket_is_gone(app: TestApp) -> None:
    app.put_json("/v1/buckets/b", {}, headers=ALICE)
    response = app.delete("/v1/buckets/b", headers=ALICE, status=200)
    assert response.json["data"]["deleted"] is True
    assert response.json["data"]["id"] == "b"
    app.get("/v1/buckets/b", headers=ALICE, status=403)


def test_delete_cascades_to_collections_and_records(app: TestApp) -> None:
    app.put_json("/v1/buckets/b/collections/c/records/r", {}, headers=ALICE, status=403)
    app.put_json("/v1/buckets/b", {}, headers=ALICE)
    app.put_json("/v1/buckets/b/collections/c", {}, headers=ALICE)
    app.put_json("/v1/buckets/b/collections/c/records/r", {}, headers=ALICE)
    app.delete("/v1/buckets/b", headers=ALICE)
    app.put_json("/v1/buckets/b", {}, headers=ALICE, status=201)
    app.get("/v1/buckets/b/collections/c", headers=ALICE, status=404)
    assert app.get("/v1/buckets/b/collections", headers=ALICE).json["data"] == []


def test_delete_plural_returns_tombstones_of_the_users_buckets(app: TestApp) -> None:
    app.put_json("/v1/buckets/b1", {}, headers=ALICE)
    app.put_json("/v1/buckets/b2", {}, headers=ALICE)
    app.put_json("/v1/buckets/bob", {}, headers=BOB)
    response = app.delete("/v1/buckets", headers=ALICE, status=200)
    assert sorted(each["id"] for each in response.json["data"]) == ["b1", "b2"]
    assert all(each["deleted"] for each in response.json["data"])
    app.get("/v1/buckets/bob", headers=BOB, status=200)


def test_put_with_a_different_id_in_the_body_is_refused(app: TestApp) -> None:
    response = app.put_json("/v1/buckets/b", {"data": {"id": "x"}}, headers=ALICE, status=400)
    assert response.json["message"] == "data.id in body: must match the id in the URL ('b')"


def test_unknown_body_key_is_refused(app: TestApp) -> None:
    response = app.put_json("/v1/buckets/b", {"date": {}}, headers=ALICE, status=400)
    assert response.json["errno"] == 107
    assert response.json["message"].startswith("date in body: unknown key")


def test_data_must_be_an_object(app: TestApp) -> None:
    response = app.put_json("/v1/buckets/b", {"data": [1]}, headers=ALICE, status=400)
    assert response.json["message"] == "data in body: must be a JSON object"


def test_unknown_permission_is_refused(app: TestApp) -> None:
    body = {"permissions": {"record:create": ["system.Everyone"]}}
    response = app.put_json("/v1/buckets/b", body, headers=ALICE, status=400)
    assert response.json["message"] == (
        "permissions.record:create in body: a bucket accepts the permissions "
        "read, write, collection:create, group:create"
    )


def test_trailing_slash_redirects(app: TestApp) -> None:
    response = app.get("/v1/buckets/?_limit=2", headers=ALICE, status=307)
    assert response.headers["Location"].endswith("/v1/buckets?_limit=2")
