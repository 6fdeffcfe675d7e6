"""Collections: objects below a bucket."""

from __future__ import annotations

import pytest
from webtest import TestApp

from tests.conftest import ALICE, ALICE_ID


@pytest.fixture
def bucket(app: TestApp) -> str:
    app.put_json("/v1/buckets/b", {}, headers=ALICE)
    return "/v1/buckets/b"


def test_create_list_get_update_delete(app: TestApp, bucket: str) -> None:
    created = app.post_json(
        f"{bucket}/collections", {"data": {"id": "c", "x": 1}}, headers=ALICE, status=201
    )
    assert created.json["permissions"] == {"write": [ALICE_ID]}
    listed = app.get(f"{bucket}/collections", headers=ALICE).json["data"]
    assert [each["id"] for each in listed] == ["c"]
    app.put_json(f"{bucket}/collections/c", {"data": {"x": 2}}, headers=ALICE, status=200)
    assert app.get(f"{bucket}/collections/c", headers=ALICE).json["data"]["x"] == 2
    tombstone = app.delete(f"{bucket}/collections/c", headers=ALICE).json["data"]
    assert tombstone["deleted"] is True
    app.get(f"{bucket}/collections/c", headers=ALICE, status=404)


def test_missing_collection_message(app: TestApp, bucket: str) -> None:
    response = app.get(f"{bucket}/collections/nope", headers=ALICE, status=404)
    assert response.json["errno"] == 110
    assert response.json["message"] == "There is no collection 'nope' at /buckets/b"
    assert response.json["details"] == {"id": "nope", "resource_name": "collection"}


def test_collection_in_a_missing_bucket_is_403(app: TestApp) -> None:
    response = app.get("/v1/buckets/nope/collections", headers=ALICE, status=403)
    assert response.json["message"] == "This user lacks the 'read' permission on /buckets/nope"


def test_delete_plural_returns_tombstones(app: TestApp, bucket: str) -> None:
    for name in ("c1", "c2"):
        app.put_json(f"{bucket}/collections/{name}", {}, headers=ALICE)
    response = app.delete(f"{bucket}/collections", headers=ALICE, status=200)
    assert sorted(each["id"] for each in response.json["data"]) == ["c1", "c2"]
    assert app.get(f"{bucket}/collections", headers=ALICE).json["data"] == []


def test_deleting_a_collection_deletes_its_records(app: TestApp, bucket: str) -> None:
    app.put_json(f"{bucket}/collections/c/records/r", {}, headers=ALICE, status=404)
    app.put_json(f"{bucket}/collections/c", {}, headers=ALICE)
    app.put_json(f"{bucket}/collections/c/records/r", {"data": {"n": 1}}, headers=ALICE)
    app.delete(f"{bucket}/collections/c", headers=ALICE)
    app.put_json(f"{bucket}/collections/c", {}, headers=ALICE, status=201)
    assert app.get(f"{bucket}/collections/c/records", headers=ALICE).json["data"] == []
