"""What listeners receive: payloads and impacted objects of every kind of write."""

from __future__ import annotations

from tests.eventing import ALICE, RECORDS, create_collection, listener, with_listeners


def test_create_in_default_bucket_emits_implicit_creations_then_the_record(tmp_path):
    app = with_listeners(tmp_path, "rec")
    response = app.post_json(
        "/v1/buckets/default/collections/notes/records",
        {"data": {"note": "kinto"}},
        headers=ALICE,
        status=201,
    )
    events = listener(app, "rec").events
    assert [(e.action, e.resource_name) for e in events] == [
        ("create", "bucket"),
        ("create", "collection"),
        ("create", "record"),
    ]
    record = response.json["data"]
    bucket_id = events[0].payload["bucket_id"]
    payload = events[2].payload
    assert payload["record_id"] == record["id"]
    assert payload["uri"] == f"/buckets/{bucket_id}/collections/notes/records/{record['id']}"
    assert payload["collection_id"] == "notes"
    assert payload["timestamp"] == record["last_modified"]
    assert payload["user_id"].startswith("basicauth:")
    assert events[2].impacted_objects == [{"new": record}]
    assert len({e.event_id for e in events}) == 3


def test_update_carries_old_and_new(tmp_path):
    app = with_listeners(tmp_path, "rec")
    create_collection(app)
    app.put_json(f"{RECORDS}/r1", {"data": {"n": 1}}, headers=ALICE, status=201)
    app.patch_json(f"{RECORDS}/r1", {"data": {"n": 2}}, headers=ALICE, status=200)
    update = listener(app, "rec").events[-1]
    assert update.action == "update"
    assert update.payload["record_id"] == "r1"
    [impacted] = update.impacted_objects
    assert impacted["old"]["n"] == 1
    assert impacted["new"]["n"] == 2
    assert impacted["new"]["last_modified"] > impacted["old"]["last_modified"]


def test_delete_carries_the_tombstone_as_new(tmp_path):
    app = with_listeners(tmp_path, "rec")
    create_collection(app)
    app.put_json(f"{RECORDS}/r1", {"data": {"n": 1}}, headers=ALICE)
    app.delete(f"{RECORDS}/r1", headers=ALICE, status=200)
    delete = listener(app, "rec").events[-1]
    assert delete.action == "delete"
    [impacted] = delete.impacted_objects
    assert impacted["old"]["n"] == 1
    assert impacted["new"]["deleted"] is True
    assert impacted["new"]["id"] == "r1"


def test_cascade_delete_emits_an_event_per_object(tmp_path):
    app = with_listeners(tmp_path, "rec")
    create_collection(app)
    for record_id in ("r1", "r2"):
        app.put_json(f"{RECORDS}/{record_id}", {"data": {}}, headers=ALICE)
    recorder = listener(app, "rec")
    recorder.events.clear()
    app.delete("/v1/buckets/b", headers=ALICE, status=200)
    named = [(e.resource_name, e.payload[f"{e.resource_name}_id"]) for e in recorder.events]
    assert named == [("bucket", "b"), ("collection", "c"), ("record", "r1"), ("record", "r2")]
    assert all(e.action == "delete" for e in recorder.events)
    assert recorder.events[2].payload["uri"] == "/buckets/b/collections/c/records/r1"


def test_batch_of_three_writes_gives_three_events_each_naming_its_object(tmp_path):
    app = with_listeners(tmp_path, "rec")
    create_collection(app)
    recorder = listener(app, "rec")
    recorder.events.clear()
    requests = [
        {"method": "POST", "path": "/buckets/b/collections/c/records", "body": {"data": {"n": n}}}
        for n in range(3)
    ]
    response = app.post_json("/v1/batch", {"requests": requests}, headers=ALICE)
    created = [each["body"]["data"]["id"] for each in response.json["responses"]]
    assert [e.payload["record_id"] for e in recorder.events] == created
    assert [e.impacted_objects[0]["new"]["n"] for e in recorder.events] == [0, 1, 2]
    assert {e.payload["uri"] for e in recorder.events} == {
        f"/buckets/b/collections/c/records/{rid}" for rid in created
    }


def test_listeners_are_called_in_ini_order_with_the_request(tmp_path):
    app = with_listeners(tmp_path, "second first")
    create_collection(app)
    second, first = listener(app, "second"), listener(app, "first")
    assert [e.event_id for e in second.events] == [e.event_id for e in first.events]
    bucket, collection = (e.event_id for e in second.events)
    assert app.app.registry.recorder_journal == [
        f"second {bucket}",
        f"first {bucket}",
        f"second {collection}",
        f"first {collection}",
    ]
    assert second.events[0].request is not None
    assert second.events[0].request.method == "PUT"


def test_reads_emit_nothing_unless_a_listener_opts_in(tmp_path):
    app = with_listeners(tmp_path, "rec")
    create_collection(app)
    before = len(listener(app, "rec").events)
    app.get("/v1/buckets/b/collections/c", headers=ALICE)
    assert len(listener(app, "rec").events) == before


def test_a_failed_batch_subrequest_undoes_its_implicit_writes_and_their_events(tmp_path):
    app = with_listeners(tmp_path, "rec")
    create_collection(app)
    recorder = listener(app, "rec")
    recorder.events.clear()
    requests = [
        {"method": "PUT", "path": "/buckets/b/collections/c/records/ok", "body": {"data": {}}},
        {
            "method": "PUT",
            "path": "/buckets/default/collections/new/records/bad%20id",
            "body": {"data": {}},
        },
    ]
    statuses = [
        r["status"]
        for r in app.post_json("/v1/batch", {"requests": requests}, headers=ALICE).json["responses"]
    ]
    assert statuses == [201, 400]
    assert [(e.resource_name, e.action) for e in recorder.events] == [("record", "create")]
    buckets = app.get("/v1/buckets", headers=ALICE).json["data"]
    assert [bucket["id"] for bucket in buckets] == ["b"]


def test_a_patch_that_changes_nothing_writes_nothing(tmp_path):
    app = with_listeners(tmp_path, "rec")
    create_collection(app)
    created = app.put_json(f"{RECORDS}/r1", {"data": {"n": 1}}, headers=ALICE).json["data"]
    before = len(listener(app, "rec").events)
    patched = app.patch_json(f"{RECORDS}/r1", {"data": {"n": 1}}, headers=ALICE).json["data"]
    assert patched["last_modified"] == created["last_modified"]
    assert len(listener(app, "rec").events) == before
