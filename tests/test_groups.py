"""Groups under a bucket: members, groups as principals, events like any object."""

from __future__ import annotations

from pathlib import Path

from webtest import TestApp

from notifier.permissions import group_principals, may_read, readable
from notifier.storage import transaction
from tests.conftest import ALICE, BOB, BOB_ID
from tests.eventing import listener, with_listeners

GROUPS = "/v1/buckets/b/groups"


def bucket(app: TestApp) -> None:
    app.put_json("/v1/buckets/b", {}, headers=ALICE, status=201)


def test_a_group_has_members_defaulting_to_none(app: TestApp) -> None:
    bucket(app)
    created = app.put_json(f"{GROUPS}/g", {"data": {}}, headers=ALICE, status=201).json
    assert created["data"]["members"] == []
    app.put_json(f"{GROUPS}/h", {"data": {"members": [BOB_ID]}}, headers=ALICE, status=201)
    listed = app.get(GROUPS, headers=ALICE).json["data"]
    assert sorted((each["id"], each["members"]) for each in listed) == [
        ("g", []),
        ("h", [BOB_ID]),
    ]


def test_a_member_acts_as_the_group(app: TestApp) -> None:
    bucket(app)
    app.put_json("/v1/buckets/b/collections/c", {}, headers=ALICE)
    group = "/buckets/b/groups/readers"
    app.put_json(
        "/v1/buckets/b/collections/c",
        {"permissions": {"read": [group]}},
        headers=ALICE,
    )
    app.get("/v1/buckets/b/collections/c", headers=BOB, status=403)
    app.put_json(f"{GROUPS}/readers", {"data": {"members": [BOB_ID]}}, headers=ALICE)
    assert app.get("/v1/buckets/b/collections/c", headers=BOB).json["data"]["id"] == "c"
    app.patch_json(f"{GROUPS}/readers", {"data": {"members": []}}, headers=ALICE)
    app.get("/v1/buckets/b/collections/c", headers=BOB, status=403)


def test_system_authenticated_as_member_lets_every_user_in(app: TestApp) -> None:
    bucket(app)
    app.put_json(f"{GROUPS}/all", {"data": {"members": ["system.Authenticated"]}}, headers=ALICE)
    app.patch_json(
        "/v1/buckets/b", {"permissions": {"read": ["/buckets/b/groups/all"]}}, headers=ALICE
    )
    assert app.get("/v1/buckets/b", headers=BOB).json["data"]["id"] == "b"


def test_deleting_a_group_ends_its_memberships_and_its_grants(app: TestApp) -> None:
    bucket(app)
    app.put_json(f"{GROUPS}/g", {"data": {"members": [BOB_ID]}}, headers=ALICE)
    app.patch_json(
        "/v1/buckets/b", {"permissions": {"read": ["/buckets/b/groups/g"]}}, headers=ALICE
    )
    app.get("/v1/buckets/b", headers=BOB, status=200)
    app.delete(f"{GROUPS}/g", headers=ALICE, status=200)
    app.get("/v1/buckets/b", headers=BOB, status=403)
    permissions = app.get("/v1/buckets/b", headers=ALICE).json["permissions"]
    assert "read" not in permissions
    app.put_json(f"{GROUPS}/g", {"data": {"members": [BOB_ID]}}, headers=ALICE)
    app.get("/v1/buckets/b", headers=BOB, status=403)


def test_bad_members_are_refused_with_kintos_reason(app: TestApp) -> None:
    bucket(app)
    response = app.put_json(f"{GROUPS}/g", {"data": {"members": "bob"}}, headers=ALICE, status=400)
    assert response.json["message"] == (
        "data.members in body: must be a list of principals (strings)"
    )
    response = app.put_json(
        f"{GROUPS}/g", {"data": {"members": ["system.Everyone"]}}, headers=ALICE, status=400
    )
    assert (
        response.json["message"] == "data.members in body: 'system.Everyone' is not a valid user ID"
    )
    response = app.put_json(
        f"{GROUPS}/g", {"data": {"members": ["/buckets/b/groups/h"]}}, headers=ALICE, status=400
    )
    assert response.json["message"] == (
        "data.members in body: '/buckets/b/groups/h' is not a valid user ID"
    )


def test_a_missing_group_is_errno_110(app: TestApp) -> None:
    bucket(app)
    response = app.get(f"{GROUPS}/nope", headers=ALICE, status=404)
    assert response.json["errno"] == 110
    assert response.json["details"] == {"id": "nope", "resource_name": "group"}


def test_group_changes_are_events(tmp_path: Path) -> None:
    app = with_listeners(tmp_path, "rec")
    bucket(app)
    app.put_json(f"{GROUPS}/g", {"data": {"members": ["x"]}}, headers=ALICE)
    app.patch_json(f"{GROUPS}/g", {"data": {"members": ["x", "y"]}}, headers=ALICE)
    app.delete(f"{GROUPS}/g", headers=ALICE)
    events = [e for e in listener(app, "rec").events if e.resource_name == "group"]
    assert [e.action for e in events] == ["create", "update", "delete"]
    assert events[0].payload["uri"] == "/buckets/b/groups/g"
    assert events[0].payload["group_id"] == "g"
    assert events[0].payload["bucket_id"] == "b"
    assert events[1].impacted_objects[0]["old"]["members"] == ["x"]
    assert events[1].impacted_objects[0]["new"]["members"] == ["x", "y"]


def test_deleting_the_bucket_deletes_its_groups_with_events(tmp_path: Path) -> None:
    app = with_listeners(tmp_path, "rec")
    bucket(app)
    app.put_json(f"{GROUPS}/g", {"data": {"members": [BOB_ID]}}, headers=ALICE)
    app.delete("/v1/buckets/b", headers=ALICE)
    deleted = [e.payload["uri"] for e in listener(app, "rec").events if e.action == "delete"]
    assert deleted == ["/buckets/b", "/buckets/b/groups/g"]
    storage = app.app.registry.notifier.storage
    with transaction(storage, write=False) as session:
        assert group_principals(session, [BOB_ID]) == []


def test_may_read_answers_from_storage_alone(app: TestApp) -> None:
    bucket(app)
    app.put_json("/v1/buckets/b/collections/c", {}, headers=ALICE)
    app.put_json(f"{GROUPS}/g", {"data": {"members": [BOB_ID]}}, headers=ALICE)
    app.patch_json(
        "/v1/buckets/b/collections/c",
        {"permissions": {"read": ["/buckets/b/groups/g"]}},
        headers=ALICE,
    )
    storage = app.app.registry.notifier.storage
    record = "/buckets/b/collections/c/records/r"
    assert may_read(storage, [BOB_ID], record)
    assert readable(storage, [((BOB_ID,), record)]) == {((BOB_ID,), record): True}
    assert not may_read(storage, ["basicauth:somebody-else"], record)
    assert not may_read(storage, [BOB_ID], "/buckets/b")
    with transaction(storage, write=False) as session:
        assert group_principals(session, [BOB_ID]) == ["/buckets/b/groups/g"]
