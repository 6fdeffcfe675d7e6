"""Records: objects below a collection."""

from __future__ import annotations

import uuid

import pytest
from webtest import TestApp

from tests.conftest import ALICE

RECORDS = "/v1/buckets/b/collections/c/records"


@pytest.fixture
def collection(app: TestApp) -> str:
    app.put_json("/v1/buckets/b", {}, headers=ALICE)
    app.put_json("/v1/buckets/b/collections/c", {}, headers=ALICE)
    return RECORDS


def test_post_gives_a_uuid(app: TestApp, collection: str) -> None:
    data = app.post_json(collection, {"data": {"n": 1}}, headers=ALICE, status=201).json["data"]
    assert str(uuid.UUID(data["id"])) == data["id"]
    assert data["n"] == 1


def test_post_with_an_existing_id_returns_it_unchanged(app: TestApp, collection: str) -> None:
    app.post_json(collection, {"data": {"id": "r", "n": 1}}, headers=ALICE, status=201)
    again = app.post_json(collection, {"data": {"id": "r", "n": 2}}, headers=ALICE, status=200)
    assert again.json["data"]["n"] == 1


def test_put_creates_then_replaces(app: TestApp, collection: str) -> None:
    created = app.put_json(f"{collection}/r", {"data": {"n": 1}}, headers=ALICE, status=201)
    replaced = app.put_json(f"{collection}/r", {"data": {"m": 2}}, headers=ALICE, status=200)
    assert replaced.json["data"] == {
        "id": "r",
        "m": 2,
        "last_modified": replaced.json["data"]["last_modified"],
    }
    assert replaced.json["data"]["last_modified"] > created.json["data"]["last_modified"]


def test_put_after_delete_recreates(app: TestApp, collection: str) -> None:
    app.put_json(f"{collection}/r", {"data": {"n": 1}}, headers=ALICE)
    app.delete(f"{collection}/r", headers=ALICE)
    app.put_json(f"{collection}/r", {"data": {"n": 2}}, headers=ALICE, status=201)


def test_post_after_delete_recreates(app: TestApp, collection: str) -> None:
    app.put_json(f"{collection}/r", {"data": {"n": 1}}, headers=ALICE)
    app.delete(f"{collection}/r", headers=ALICE)
    app.post_json(collection, {"data": {"id": "r"}}, headers=ALICE, status=201)


def test_get_missing_record_is_404_with_message(app: TestApp, collection: str) -> None:
    response = app.get(f"{collection}/nope", headers=ALICE, status=404)
    assert response.json["message"] == "There is no record 'nope' at /buckets/b/collections/c"


def test_delete_twice_is_404(app: TestApp, collection: str) -> None:
    app.put_json(f"{collection}/r", {}, headers=ALICE)
    tombstone = app.delete(f"{collection}/r", headers=ALICE, status=200).json["data"]
    assert tombstone == {"id": "r", "last_modified": tombstone["last_modified"], "deleted": True}
    response = app.delete(f"{collection}/r", headers=ALICE, status=404)
    assert response.json["errno"] == 110


def test_delete_plural_returns_tombstones_and_honours_filters(
    app: TestApp, collection: str
) -> None:
    for n in range(4):
        app.put_json(f"{collection}/r{n}", {"data": {"n": n}}, headers=ALICE)
    response = app.delete(f"{collection}?min_n=2", headers=ALICE, status=200)
    assert sorted(each["id"] for each in response.json["data"]) == ["r2", "r3"]
    left = app.get(collection, headers=ALICE).json["data"]
    assert sorted(each["id"] for each in left) == ["r0", "r1"]


def test_record_in_a_missing_collection_is_404(app: TestApp, collection: str) -> None:
    response = app.get("/v1/buckets/b/collections/nope/records", headers=ALICE, status=404)
    assert response.json["message"] == "There is no collection 'nope' at /buckets/b"


def test_records_of_a_deleted_bucket_stay_gone_when_it_is_created_again(
    app: TestApp, collection: str
) -> None:
    app.put_json(f"{collection}/r", {"data": {}}, headers=ALICE)
    app.delete("/v1/buckets/b", headers=ALICE)
    app.put_json("/v1/buckets/b", {}, headers=ALICE)
    response = app.get(f"{collection}/r", headers=ALICE, status=404)
    assert response.json["message"] == "There is no collection 'c' at /buckets/b"


def test_nested_data_round_trips(app: TestApp, collection: str) -> None:
    data = {"a": {"b": [1, {"c": None}]}, "s": "é", "f": 1.5, "t": True}
    saved = app.put_json(f"{collection}/r", {"data": data}, headers=ALICE).json["data"]
    assert {k: saved[k] for k in data} == data
