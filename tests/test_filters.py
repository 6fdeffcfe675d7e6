"""The dispatcher's filters, from INI keys and composed in Python."""

from __future__ import annotations

import pytest

from notifier.delivery import filters
from notifier.delivery.events import ResourceChanged
from tests.eventing import ALICE, RECORDS, listener, with_listeners


def write_a_bit(app):
    app.put_json("/v1/buckets/b", {}, headers=ALICE)
    app.put_json("/v1/buckets/b/collections/c", {}, headers=ALICE)
    app.put_json("/v1/buckets/b/collections/tmp-1", {}, headers=ALICE)
    app.put_json(f"{RECORDS}/keep", {"data": {}}, headers=ALICE)
    app.put_json(f"{RECORDS}/draft-1", {"data": {}}, headers=ALICE)
    app.patch_json(f"{RECORDS}/keep", {"data": {"n": 1}}, headers=ALICE)
    app.delete(f"{RECORDS}/draft-1", headers=ALICE)


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("actions", "delete", [("delete", "record", "draft-1")]),
        ("actions", "update", [("update", "record", "keep")]),
        (
            "resources",
            "collection",
            [("create", "collection", "c"), ("create", "collection", "tmp-1")],
        ),
        ("collections", "tmp-*", [("create", "collection", "tmp-1")]),
        ("ids", "draft-*", [("create", "record", "draft-1"), ("delete", "record", "draft-1")]),
        ("buckets", "other", []),
    ],
)
def test_each_filter_key_narrows_what_a_listener_gets(tmp_path, key, value, expected):
    app = with_listeners(tmp_path, "rec", **{f"notifier.event_listeners.rec.{key}": value})
    write_a_bit(app)
    got = [
        (e.action, e.resource_name, e.payload[f"{e.resource_name}_id"])
        for e in listener(app, "rec").events
    ]
    assert got == expected


def test_filter_keys_combine_as_and(tmp_path):
    app = with_listeners(
        tmp_path,
        "rec",
        **{
            "notifier.event_listeners.rec.actions": "create",
            "notifier.event_listeners.rec.resources": "record",
            "notifier.event_listeners.rec.buckets": "b",
        },
    )
    write_a_bit(app)
    got = [e.payload["record_id"] for e in listener(app, "rec").events]
    assert got == ["keep", "draft-1"]


def test_read_is_an_opt_in_action(tmp_path):
    app = with_listeners(tmp_path, "rec", **{"notifier.event_listeners.rec.actions": "read"})
    write_a_bit(app)
    assert listener(app, "rec").events == []
    assert app.app.registry.notifier.reads_wanted


def event(action="create", resource="record", bucket="b", collection="c", object_id="r"):
    payload = {
        "action": action,
        "resource_name": resource,
        "bucket_id": bucket,
        "collection_id": collection,
        f"{resource}_id": object_id,
    }
    return ResourceChanged(payload, [{"new": {"id": object_id}}])


def test_filters_compose_with_and_or_not():
    records = filters.resources("record")
    deletes = filters.actions("delete")
    assert (records & deletes)(event(action="delete"))
    assert not (records & deletes)(event(action="create"))
    assert (records | deletes)(event(resource="bucket", action="delete"))
    assert not (~records)(event())
    chosen = filters.buckets("prod-*") & ~filters.ids("tmp-*")
    assert chosen(event(bucket="prod-eu", object_id="r1"))
    assert not chosen(event(bucket="prod-eu", object_id="tmp-9"))
    assert not chosen(event(bucket="staging"))
    assert "bucket matches" in repr(chosen)


def test_a_listener_declares_its_own_filter_and_the_ini_narrows_it(tmp_path):
    app = with_listeners(
        tmp_path,
        "rec",
        **{
            "notifier.event_listeners.rec.only_collection": "c",
            "notifier.event_listeners.rec.actions": "create",
        },
    )
    write_a_bit(app)
    got = [
        (e.resource_name, e.payload.get("collection_id"), e.action)
        for e in listener(app, "rec").events
    ]
    assert got == [
        ("collection", "c", "create"),
        ("record", "c", "create"),
        ("record", "c", "create"),
    ]


def test_a_listener_that_opts_into_reads_gets_one_event_per_object_read(tmp_path):
    app = with_listeners(tmp_path, "rec", **{"notifier.event_listeners.rec.actions": "read"})
    write_a_bit(app)
    app.get(f"{RECORDS}/keep", headers=ALICE)
    app.get(RECORDS, headers=ALICE)
    got = [(e.action, e.payload["record_id"]) for e in listener(app, "rec").events]
    assert got == [("read", "keep"), ("read", "keep")]
    assert listener(app, "rec").events[0].impacted_objects[0]["new"]["n"] == 1
