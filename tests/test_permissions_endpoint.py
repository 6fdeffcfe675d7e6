"""GET /v1/permissions (notifier.experimental_permissions_endpoint), in Kinto's format."""

from __future__ import annotations

from pathlib import Path

import pytest
from webtest import TestApp

from notifier.settings import SettingsError
from tests.conftest import ALICE, ALICE_ID, BOB, BOB_ID
from tests.eventing import make_app

ON = {"notifier.experimental_permissions_endpoint": "true"}


def test_the_endpoint_is_off_by_default(app: TestApp) -> None:
    app.get("/v1/permissions", headers=ALICE, status=404)
    assert "permissions_endpoint" not in app.get("/v1/").json["capabilities"]


def test_each_object_with_the_users_permissions(tmp_path: Path) -> None:
    app = make_app(tmp_path, **ON)
    assert "permissions_endpoint" in app.get("/v1/").json["capabilities"]
    app.put_json("/v1/buckets/b", {}, headers=ALICE)
    app.put_json("/v1/buckets/b/collections/c", {"permissions": {"read": [BOB_ID]}}, headers=ALICE)
    app.put_json("/v1/buckets/b/groups/g", {"data": {"members": [BOB_ID]}}, headers=ALICE)
    app.put_json(
        "/v1/buckets/b/collections/c/records/r",
        {"permissions": {"write": ["/buckets/b/groups/g"]}},
        headers=ALICE,
    )
    bobs = app.get("/v1/permissions", headers=BOB).json["data"]
    assert bobs == [
        {
            "uri": "/buckets/b/collections/c",
            "resource_name": "collection",
            "id": "c",
            "bucket_id": "b",
            "collection_id": "c",
            "permissions": ["read"],
        },
        {
            "uri": "/buckets/b/collections/c/records/r",
            "resource_name": "record",
            "id": "r",
            "bucket_id": "b",
            "collection_id": "c",
            "record_id": "r",
            "permissions": ["read", "write"],
        },
    ]
    alices = app.get("/v1/permissions?resource_name=bucket", headers=ALICE).json["data"]
    assert alices == [
        {
            "uri": "/buckets/b",
            "resource_name": "bucket",
            "id": "b",
            "bucket_id": "b",
            "permissions": ["collection:create", "group:create", "read", "write"],
        }
    ]
    others = app.get("/v1/permissions?exclude_resource_name=bucket,record", headers=ALICE)
    assert [each["uri"] for each in others.json["data"]] == [
        "/buckets/b/collections/c",
        "/buckets/b/groups/g",
    ]
    assert ALICE_ID not in str(bobs)


def test_a_bad_switch_names_the_key(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as raised:
        make_app(tmp_path, **{"notifier.experimental_permissions_endpoint": "maybe"})
    assert str(raised.value).startswith(
        "notifier.experimental_permissions_endpoint: expected a boolean"
    )
