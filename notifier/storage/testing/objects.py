"""Conformance, part one: objects, timestamps, purges, permissions, transactions."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from notifier.storage import INTERNAL_PARENT, ObjectExists, Selection, Sort, Storage, transaction
from notifier.storage.testing.helpers import RECORDS, create_records, read


def build_tree(storage: Storage) -> None:
    with transaction(storage) as session:
        for bucket in ("b", "b2", "b_other", "b-2"):
            session.create("bucket", "", {"id": bucket})
            session.create("collection", f"/buckets/{bucket}", {"id": "c"})
            session.create("record", f"/buckets/{bucket}/collections/c", {"id": "r1"})
        session.create("collection", "/buckets/b", {"id": "d"})
        session.create("record", "/buckets/b/collections/d", {"id": "r2"})
        session.create("record", "/buckets/b/collections/d", {"id": "r3"})
        session.delete("record", "/buckets/b/collections/d", "r3")


class ObjectConformance:
    """Objects, their timestamps and tombstones, permissions and transactions."""

    def test_create_returns_and_stores_the_object(self, storage: Storage) -> None:
        data = {"id": "r1", "title": "héllo", "n": 1.5, "big": 2**53, "ok": True, "none": None,
                "nested": {"list": [1, "two", {"three": 3}]}}  # fmt: skip
        [created] = create_records(storage, data)
        assert created == {**data, "last_modified": created["last_modified"]}
        assert read(storage, lambda s: s.get("record", RECORDS, "r1")) == created

    def test_get_is_scoped_by_parent_and_resource(self, storage: Storage) -> None:
        create_records(storage, {"id": "r1"})
        assert read(storage, lambda s: s.get("record", "/buckets/b/collections/d", "r1")) is None
        assert read(storage, lambda s: s.get("collection", RECORDS, "r1")) is None
        assert read(storage, lambda s: s.get("record", RECORDS, "nope")) is None

    def test_create_over_a_live_object_raises_object_exists(self, storage: Storage) -> None:
        create_records(storage, {"id": "r1", "n": 1})
        with pytest.raises(ObjectExists) as raised, transaction(storage) as session:
            session.create("record", RECORDS, {"id": "r1", "n": 2})
        assert raised.value.existing["n"] == 1
        assert read(storage, lambda s: s.get("record", RECORDS, "r1"))["n"] == 1

    def test_a_create_that_finds_a_live_object_leaves_the_timestamp(self, storage: Storage) -> None:
        [first] = create_records(storage, {"id": "r1", "n": 1})
        with transaction(storage) as session, pytest.raises(ObjectExists):
            session.create("record", RECORDS, {"id": "r1", "n": 2})
        assert read(storage, lambda s: s.timestamp("record", RECORDS)) == first["last_modified"]

    def test_create_over_a_tombstone_succeeds(self, storage: Storage) -> None:
        create_records(storage, {"id": "r1", "n": 1})
        with transaction(storage) as session:
            tombstone = session.delete("record", RECORDS, "r1")
            again = session.create("record", RECORDS, {"id": "r1", "n": 2})
        assert read(storage, lambda s: s.get("record", RECORDS, "r1")) == again
        assert again["last_modified"] > tombstone["last_modified"]
        assert read(storage, lambda s: s.timestamp("record", RECORDS)) == again["last_modified"]

    def test_update_replaces_the_whole_object_or_creates_it(self, storage: Storage) -> None:
        [old] = create_records(storage, {"id": "r1", "a": 1, "b": 2})
        with transaction(storage) as session:
            new = session.update("record", RECORDS, {"id": "r1", "a": 3, "last_modified": 1})
            other = session.update("record", RECORDS, {"id": "r2", "x": True})
        assert new == {"id": "r1", "a": 3, "last_modified": new["last_modified"]}
        assert new["last_modified"] > old["last_modified"]
        assert read(storage, lambda s: s.get("record", RECORDS, "r2")) == other

    def test_delete_leaves_a_tombstone(self, storage: Storage) -> None:
        [created] = create_records(storage, {"id": "r1", "secret": "x"})
        with transaction(storage) as session:
            tombstone = session.delete("record", RECORDS, "r1")
        assert tombstone == {
            "id": "r1",
            "last_modified": tombstone["last_modified"],
            "deleted": True,
        }
        assert tombstone["last_modified"] > created["last_modified"]
        assert read(storage, lambda s: s.get("record", RECORDS, "r1")) is None
        assert read(storage, lambda s: s.list("record", RECORDS)) == []
        assert read(
            storage, lambda s: s.list("record", RECORDS, Selection(include_deleted=True))
        ) == [tombstone]
        assert read(storage, lambda s: s.timestamp("record", RECORDS)) == tombstone["last_modified"]

    # --- timestamps ----------------------------------------------------------------------

    def test_timestamp_is_zero_for_an_unknown_list(self, storage: Storage) -> None:
        assert read(storage, lambda s: s.timestamp("record", RECORDS)) == 0

    def test_last_modified_strictly_increases_within_one_millisecond(
        self, storage: Storage
    ) -> None:
        with transaction(storage) as session:
            stamps = [
                session.update("record", RECORDS, {"id": f"r{i}"})["last_modified"]
                for i in range(300)
            ]
            stamps.append(session.delete("record", RECORDS, "r0")["last_modified"])
        assert stamps == sorted(set(stamps))
        assert stamps[-1] - stamps[0] < 10_000, "stamps follow the clock, not a counter from 0"
        assert stamps[0] > 1_600_000_000_000
        assert read(storage, lambda s: s.timestamp("record", RECORDS)) == stamps[-1]

    def test_timestamps_are_per_parent_and_resource(self, storage: Storage) -> None:
        with transaction(storage) as session:
            record = session.create("record", RECORDS, {"id": "x"})
            collection = session.create("collection", "/buckets/b", {"id": "c"})
        assert read(storage, lambda s: s.timestamp("record", RECORDS)) == record["last_modified"]
        assert (
            read(storage, lambda s: s.timestamp("collection", "/buckets/b"))
            == (collection["last_modified"])
        )
        assert read(storage, lambda s: s.timestamp("collection", RECORDS)) == 0

    def test_last_modified_keeps_increasing_across_transactions(self, storage: Storage) -> None:
        stamps = []
        for i in range(20):
            with transaction(storage) as session:
                stamps.append(
                    session.update("record", RECORDS, {"id": "r", "i": i})["last_modified"]
                )
        assert stamps == sorted(set(stamps))

    # --- purge_children ------------------------------------------------------------------

    def test_purge_children_returns_live_objects_parents_first(self, storage: Storage) -> None:
        build_tree(storage)
        with transaction(storage) as session:
            purged = session.purge_children("/buckets/b")
        names = [(resource, parent, obj["id"]) for resource, parent, obj in purged]
        assert names[:2] == [("collection", "/buckets/b", "c"), ("collection", "/buckets/b", "d")]
        assert sorted(names[2:]) == [
            ("record", "/buckets/b/collections/c", "r1"),
            ("record", "/buckets/b/collections/d", "r2"),
        ]
        assert all("deleted" not in obj and obj["last_modified"] > 0 for _, _, obj in purged)

    def test_purge_children_removes_tombstones_and_timestamps(self, storage: Storage) -> None:
        build_tree(storage)
        with transaction(storage) as session:
            session.purge_children("/buckets/b")

        def below_b(session: Any) -> Any:
            return (
                session.list("record", "/buckets/b/collections/d", Selection(include_deleted=True)),
                session.list("collection", "/buckets/b", Selection(include_deleted=True)),
                session.timestamp("record", "/buckets/b/collections/d"),
            )

        assert read(storage, below_b) == ([], [], 0)
        assert read(storage, lambda s: s.get("bucket", "", "b")) is not None, "only children go"

    @pytest.mark.parametrize("sibling", ["b2", "b_other", "b-2"])
    def test_purge_children_leaves_siblings_alone(self, storage: Storage, sibling: str) -> None:
        build_tree(storage)
        with transaction(storage) as session:
            session.purge_children("/buckets/b")

        def sibling_tree(session: Any) -> Any:
            return (
                session.get("collection", f"/buckets/{sibling}", "c"),
                session.get("record", f"/buckets/{sibling}/collections/c", "r1"),
            )

        collection, record = read(storage, sibling_tree)
        assert collection is not None and record is not None

    def test_purging_everything_keeps_notifiers_own_state(self, storage: Storage) -> None:
        """The flush (``purge_children("")``, ``delete_permissions("")``) keeps INTERNAL_PARENT."""
        build_tree(storage)
        internal = f"{INTERNAL_PARENT}/webhooks/hook"
        with transaction(storage) as session:
            session.create("webhook_endpoint", internal, {"id": "e1"})
            session.purge_children("")
            session.delete_permissions("")
            assert session.get("bucket", "", "b") is None
        assert read(storage, lambda s: s.get("webhook_endpoint", internal, "e1")) is not None

    # --- list: filters -------------------------------------------------------------------

    def test_permissions_set_get_replace(self, storage: Storage) -> None:
        with transaction(storage) as session:
            session.set_permissions("/buckets/b", {"write": {"alice", "bob"}, "read": {"eve"}})
        assert read(storage, lambda s: s.get_permissions("/buckets/b")) == {
            "write": {"alice", "bob"},
            "read": {"eve"},
        }
        with transaction(storage) as session:
            session.set_permissions("/buckets/b", {"read": {"carol"}})
        assert read(storage, lambda s: s.get_permissions("/buckets/b")) == {"read": {"carol"}}
        with transaction(storage) as session:
            session.set_permissions("/buckets/b", {})
        assert read(storage, lambda s: s.get_permissions("/buckets/b")) == {}
        assert read(storage, lambda s: s.get_permissions("/buckets/unknown")) == {}

    def test_permissions_after_a_get_follow_the_sessions_own_writes(self, storage: Storage) -> None:
        """A backend may read permissions beside an object: what ``get_permissions``
        answers next still follows every write, savepoints included."""
        record = "/buckets/b/collections/c/records/r"
        with transaction(storage) as session:
            session.create("bucket", "", {"id": "b"})
            session.create("collection", "/buckets/b", {"id": "c"})
            session.create("record", "/buckets/b/collections/c", {"id": "r"})
            session.set_permissions("/buckets/b", {"write": {"alice"}}, new_object=True)
            session.set_permissions(record, {"read": {"bob"}}, new_object=True)
        with transaction(storage) as session:
            assert session.get("record", "/buckets/b/collections/c", "r") is not None
            assert session.get_permissions(record) == {"read": {"bob"}}
            assert session.get_permissions("/buckets/b/collections/c") == {}
            assert session.get_permissions("/buckets/b") == {"write": {"alice"}}
            session.set_permissions(record, {"read": {"carol"}})
            assert session.get_permissions(record) == {"read": {"carol"}}
            session.savepoint("s1")
            session.get("record", "/buckets/b/collections/c", "r")
            session.delete_permissions("/buckets/b")
            assert session.get_permissions(record) == {}
            session.rollback_to("s1")
            assert session.get_permissions(record) == {"read": {"carol"}}
            assert session.get("record", "/buckets/b/collections/c", "r") is not None
            assert session.get_permissions("/buckets/b") == {"write": {"alice"}}
        with transaction(storage, write=False) as session:
            assert session.get("record", "/buckets/b/collections/c", "r") is not None
            assert session.get_permissions(record) == {"read": {"carol"}}
            assert session.get("record", "/buckets/b/collections/c", "missing") is None
            assert session.get_permissions("/buckets/b") == {"write": {"alice"}}

    def test_timestamps_after_a_get_are_the_lists_own(self, storage: Storage) -> None:
        """A backend may read the timestamps of the lists below an object beside it."""
        with transaction(storage) as session:
            session.create("bucket", "", {"id": "b"})
            session.create("collection", "/buckets/b", {"id": "c"})
            session.create("collection", "/buckets/b", {"id": "empty"})
            stamp = session.create("record", "/buckets/b/collections/c", {"id": "r"})
        for write in (False, True):
            with transaction(storage, write=write) as session:
                assert session.get("collection", "/buckets/b", "c") is not None
                assert session.get("collection", "/buckets/b", "empty") is not None
                assert (
                    session.timestamp("record", "/buckets/b/collections/c")
                    == stamp["last_modified"]
                )
                assert session.timestamp("record", "/buckets/b/collections/empty") == 0
                assert session.timestamp("group", "/buckets/b/collections/c") == 0
        with transaction(storage) as session:
            session.get("collection", "/buckets/b", "c")
            newer = session.create("record", "/buckets/b/collections/c", {"id": "s"})
            assert session.timestamp("record", "/buckets/b/collections/c") == newer["last_modified"]

    def test_granted_lists_each_uri_with_the_principals_permissions(self, storage: Storage) -> None:
        """/v1/permissions and group memberships read ``granted``."""
        with transaction(storage) as session:
            session.set_permissions("/buckets/b", {"write": {"alice"}, "read": {"bob"}})
            session.set_permissions("/buckets/b/collections/c", {"read": {"alice", "bob"}})
            session.set_permissions("/buckets/b/groups/g/members", {"member": {"alice"}})
            session.set_permissions("/buckets/x", {"write": {"carol"}})
        assert read(storage, lambda s: s.granted(["alice"])) == {
            "/buckets/b": {"write"},
            "/buckets/b/collections/c": {"read"},
            "/buckets/b/groups/g/members": {"member"},
        }
        assert read(storage, lambda s: s.granted(["alice", "bob"], ["read"])) == {
            "/buckets/b": {"read"},
            "/buckets/b/collections/c": {"read"},
        }
        assert read(storage, lambda s: s.granted(["alice"], ["member"])) == {
            "/buckets/b/groups/g/members": {"member"},
        }
        assert read(storage, lambda s: s.granted(["nobody"])) == {}

    def test_delete_permissions_takes_the_uri_and_everything_below(self, storage: Storage) -> None:
        uris = [
            "/buckets/b",
            "/buckets/b/collections/c",
            "/buckets/b/collections/c/records/r",
            "/buckets/b2",
            "/buckets/b_other",
            "/buckets/b-2",
            "/buckets/b2/collections/c",
        ]
        with transaction(storage) as session:
            for uri in uris:
                session.set_permissions(uri, {"read": {"alice"}})
            session.delete_permissions("/buckets/b")
        left = read(storage, lambda s: {uri for uri in uris if s.get_permissions(uri)})
        assert left == {
            "/buckets/b2",
            "/buckets/b_other",
            "/buckets/b-2",
            "/buckets/b2/collections/c",
        }

    def test_accessible_ids(self, storage: Storage) -> None:
        with transaction(storage) as session:
            session.set_permissions("/buckets/b1", {"read": {"alice"}})
            session.set_permissions("/buckets/b2", {"write": {"alice"}, "read": {"bob"}})
            session.set_permissions("/buckets/b3", {"read": {"bob"}})
            session.set_permissions("/buckets/b1/collections/c", {"read": {"alice"}})
            session.set_permissions("/buckets/b1/collections/d", {"write": {"system.Everyone"}})
            session.set_permissions("/buckets/b1/collectionsx/e", {"read": {"alice"}})

        def query(*args: Any) -> Any:
            return read(storage, lambda s: s.accessible_ids(*args))

        assert query("", "buckets", ["alice"], ["read", "write"]) == {"b1", "b2"}
        assert query("", "buckets", ["alice"], ["read"]) == {"b1"}
        assert query("", "buckets", ["alice", "bob"], ["read"]) == {"b1", "b2", "b3"}
        assert query("", "buckets", ["carol"], ["read"]) == set()
        assert query(
            "/buckets/b1", "collections", ["alice", "system.Everyone"], ["read", "write"]
        ) == {
            "c",
            "d",
        }

    # --- transactions --------------------------------------------------------------------

    def test_uncommitted_writes_are_invisible_then_visible(self, storage: Storage) -> None:
        session = storage.session(write=True)
        try:
            session.create("bucket", "", {"id": "b"})
            session.set_permissions("/buckets/b", {"write": {"alice"}})
            assert session.get("bucket", "", "b") is not None, "a session sees its own writes"
            assert read(storage, lambda s: s.get("bucket", "", "b")) is None
            assert read(storage, lambda s: s.get_permissions("/buckets/b")) == {}
        except BaseException:
            session.rollback()
            raise
        session.commit()
        assert read(storage, lambda s: s.get("bucket", "", "b")) is not None
        assert read(storage, lambda s: s.get_permissions("/buckets/b")) == {"write": {"alice"}}

    def test_a_rolled_back_session_leaves_nothing(self, storage: Storage) -> None:
        with pytest.raises(RuntimeError), transaction(storage) as session:
            session.create("bucket", "", {"id": "b"})
            session.create("collection", "/buckets/b", {"id": "c"})
            session.set_permissions("/buckets/b", {"write": {"alice"}})
            raise RuntimeError("the view failed")

        def everything(session: Any) -> Any:
            return (
                session.list("bucket", "", Selection(include_deleted=True)),
                session.list("collection", "/buckets/b", Selection(include_deleted=True)),
                session.timestamp("bucket", ""),
                session.timestamp("collection", "/buckets/b"),
                session.get_permissions("/buckets/b"),
            )

        assert read(storage, everything) == ([], [], 0, 0, {})

    def test_a_rolled_back_delete_and_purge_restore_everything(self, storage: Storage) -> None:
        build_tree(storage)
        session = storage.session(write=True)
        session.delete("bucket", "", "b")
        session.purge_children("/buckets/b")
        session.rollback()
        assert (
            read(storage, lambda s: s.get("record", "/buckets/b/collections/d", "r2")) is not None
        )

    def test_read_then_write_in_write_sessions_does_not_lose_updates(
        self, storage: Storage
    ) -> None:
        """Two writers increment one counter: the second reads after the first commits."""
        create_records(storage, {"id": "counter", "n": 0})
        first_has_read = threading.Event()

        def increment(wait_for: threading.Event | None) -> None:
            if wait_for is not None:
                wait_for.wait(10)
            with transaction(storage) as session:
                current = session.get("record", RECORDS, "counter")
                if wait_for is None:
                    first_has_read.set()
                    time.sleep(0.3)
                assert current is not None
                session.update("record", RECORDS, {**current, "n": current["n"] + 1})

        with ThreadPoolExecutor(2) as executor:
            futures = [executor.submit(increment, None), executor.submit(increment, first_has_read)]
            for future in futures:
                future.result(timeout=30)
        assert read(storage, lambda s: s.get("record", RECORDS, "counter"))["n"] == 2

    def test_healthy(self, storage: Storage) -> None:
        assert storage.healthy() is True

    def test_list_json_gives_the_objects_of_list_as_json_text(self, storage: Storage) -> None:
        import json

        create_records(
            storage,
            {"id": "empty"},
            {"id": "full", "title": 'héllo "quoted"', "nested": {"a": [1, None, True]}, "n": 2.5},
            {"id": "gone", "n": 3},
        )
        with transaction(storage) as session:
            session.delete("record", RECORDS, "gone")
        sorting = [Sort("id")]
        everything = Selection(sorting=sorting, include_deleted=True)
        objects = read(storage, lambda s: s.list("record", RECORDS, everything))
        texts = read(storage, lambda s: s.list_json("record", RECORDS, everything))
        assert [json.loads(text) for text in texts] == objects
        assert [obj["id"] for obj in objects] == ["empty", "full", "gone"]
        assert objects[2]["deleted"] is True
