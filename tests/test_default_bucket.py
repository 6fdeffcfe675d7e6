"""The default bucket: each user's own, created with its collections on first use."""

from __future__ import annotations

from webtest import TestApp

from tests.conftest import ALICE, ALICE_ID, BOB, BOB_ID

TASKS = "/v1/buckets/default/collections/tasks/records"


def users_bucket(app: TestApp, headers: dict[str, str]) -> str:
    bucket: str = app.get("/v1/", headers=headers).json["user"]["bucket"]
    return bucket


def test_get_creates_it_with_the_users_bucket_id(app: TestApp) -> None:
    response = app.get("/v1/buckets/default", headers=ALICE, status=200)
    assert response.json["data"]["id"] == users_bucket(app, ALICE)
    assert response.json["permissions"] == {"write": [ALICE_ID]}


def test_each_user_has_a_different_one(app: TestApp) -> None:
    alices = app.get("/v1/buckets/default", headers=ALICE).json["data"]["id"]
    bobs = app.get("/v1/buckets/default", headers=BOB).json["data"]["id"]
    assert alices != bobs
    assert app.get("/v1/buckets/default", headers=BOB).json["permissions"]["write"] == [BOB_ID]


def test_records_in_an_implicit_collection(app: TestApp) -> None:
    created = app.post_json(TASKS, {"data": {"title": "x"}}, headers=ALICE, status=201)
    record_id = created.json["data"]["id"]
    listed = app.get(TASKS, headers=ALICE).json["data"]
    assert [each["id"] for each in listed] == [record_id]
    collections = app.get("/v1/buckets/default/collections", headers=ALICE).json["data"]
    assert [each["id"] for each in collections] == ["tasks"]


def test_the_real_id_reaches_the_same_objects(app: TestApp) -> None:
    app.put_json(f"{TASKS}/r", {"data": {"n": 1}}, headers=ALICE, status=201)
    bucket = users_bucket(app, ALICE)
    url = f"/v1/buckets/{bucket}/collections/tasks/records/r"
    assert app.get(url, headers=ALICE).json["data"]["n"] == 1


def test_another_user_cannot_reach_it(app: TestApp) -> None:
    app.put_json(f"{TASKS}/r", {"data": {"n": 1}}, headers=ALICE)
    bucket = users_bucket(app, ALICE)
    app.get(f"/v1/buckets/{bucket}", headers=BOB, status=403)
    response = app.get(f"/v1/buckets/{bucket}/collections/tasks/records/r", headers=BOB, status=403)
    assert response.json["message"] == (
        f"This user lacks the 'read' permission on /buckets/{bucket}/collections/tasks/records/r"
    )
    app.put_json(f"/v1/buckets/{bucket}/collections/tasks/records/r", {}, headers=BOB, status=403)
    app.get(f"{TASKS}/r", headers=BOB, status=404)


def test_it_needs_credentials(app: TestApp) -> None:
    response = app.get("/v1/buckets/default", status=401)
    assert response.json["message"] == (
        "The default bucket is the authenticated user's own: send Basic credentials"
    )
    app.get(TASKS, status=401)


def test_it_lists_among_the_users_buckets(app: TestApp) -> None:
    app.get("/v1/buckets/default", headers=ALICE)
    ids = [each["id"] for each in app.get("/v1/buckets", headers=ALICE).json["data"]]
    assert ids == [users_bucket(app, ALICE)]


def test_a_read_creates_nothing_when_it_fails(app: TestApp) -> None:
    app.get("/v1/buckets/default/collections/bad id/records", headers=ALICE, status=400)
    assert app.get("/v1/buckets", headers=ALICE).json["data"] == []


def test_deleting_it_and_using_it_again(app: TestApp) -> None:
    app.put_json(f"{TASKS}/r", {}, headers=ALICE)
    tombstone = app.delete("/v1/buckets/default", headers=ALICE).json["data"]
    assert tombstone["deleted"] is True
    assert app.get(TASKS, headers=ALICE).json["data"] == []


def test_put_of_a_collection_in_it(app: TestApp) -> None:
    app.put_json("/v1/buckets/default/collections/c", {"data": {"x": 1}}, headers=ALICE, status=201)
    got = app.get("/v1/buckets/default/collections/c", headers=ALICE)
    assert got.json["data"]["x"] == 1
