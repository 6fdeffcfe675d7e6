"""The storage conformance suite: every backend must pass every test here.

The ``storage`` fixture (in conftest.py) runs each test on SQLite and on
PostgreSQL; the outbox and savepoint tests are in test_storage_conformance_outbox.py.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from notifier.storage import Filter, ObjectExists, Op, Selection, Sort, Storage, transaction
from tests.storage_helpers import read

RECORDS = "/buckets/b/collections/c"


def create_records(storage: Storage, *records: dict[str, Any]) -> list[dict[str, Any]]:
    with transaction(storage) as session:
        return [session.create("record", RECORDS, record) for record in records]


# --- objects -------------------------------------------------------------------------


def test_create_returns_and_stores_the_object(storage: Storage) -> None:
    data = {"id": "r1", "title": "héllo", "n": 1.5, "big": 2**53, "ok": True, "none": None,
            "nested": {"list": [1, "two", {"three": 3}]}}  # fmt: skip
    [created] = create_records(storage, data)
    assert created == {**data, "last_modified": created["last_modified"]}
    assert read(storage, lambda s: s.get("record", RECORDS, "r1")) == created


def test_get_is_scoped_by_parent_and_resource(storage: Storage) -> None:
    create_records(storage, {"id": "r1"})
    assert read(storage, lambda s: s.get("record", "/buckets/b/collections/d", "r1")) is None
    assert read(storage, lambda s: s.get("collection", RECORDS, "r1")) is None
    assert read(storage, lambda s: s.get("record", RECORDS, "nope")) is None


def test_create_over_a_live_object_raises_object_exists(storage: Storage) -> None:
    create_records(storage, {"id": "r1", "n": 1})
    with pytest.raises(ObjectExists) as raised, transaction(storage) as session:
        session.create("record", RECORDS, {"id": "r1", "n": 2})
    assert raised.value.existing["n"] == 1
    assert read(storage, lambda s: s.get("record", RECORDS, "r1"))["n"] == 1


def test_a_create_that_finds_a_live_object_leaves_the_timestamp(storage: Storage) -> None:
    [first] = create_records(storage, {"id": "r1", "n": 1})
    with transaction(storage) as session, pytest.raises(ObjectExists):
        session.create("record", RECORDS, {"id": "r1", "n": 2})
    assert read(storage, lambda s: s.timestamp("record", RECORDS)) == first["last_modified"]


def test_create_over_a_tombstone_succeeds(storage: Storage) -> None:
    create_records(storage, {"id": "r1", "n": 1})
    with transaction(storage) as session:
        tombstone = session.delete("record", RECORDS, "r1")
        again = session.create("record", RECORDS, {"id": "r1", "n": 2})
    assert read(storage, lambda s: s.get("record", RECORDS, "r1")) == again
    assert again["last_modified"] > tombstone["last_modified"]
    assert read(storage, lambda s: s.timestamp("record", RECORDS)) == again["last_modified"]


def test_update_replaces_the_whole_object_or_creates_it(storage: Storage) -> None:
    [old] = create_records(storage, {"id": "r1", "a": 1, "b": 2})
    with transaction(storage) as session:
        new = session.update("record", RECORDS, {"id": "r1", "a": 3, "last_modified": 1})
        other = session.update("record", RECORDS, {"id": "r2", "x": True})
    assert new == {"id": "r1", "a": 3, "last_modified": new["last_modified"]}
    assert new["last_modified"] > old["last_modified"]
    assert read(storage, lambda s: s.get("record", RECORDS, "r2")) == other


def test_delete_leaves_a_tombstone(storage: Storage) -> None:
    [created] = create_records(storage, {"id": "r1", "secret": "x"})
    with transaction(storage) as session:
        tombstone = session.delete("record", RECORDS, "r1")
    assert tombstone == {"id": "r1", "last_modified": tombstone["last_modified"], "deleted": True}
    assert tombstone["last_modified"] > created["last_modified"]
    assert read(storage, lambda s: s.get("record", RECORDS, "r1")) is None
    assert read(storage, lambda s: s.list("record", RECORDS)) == []
    assert read(storage, lambda s: s.list("record", RECORDS, Selection(include_deleted=True))) == [
        tombstone
    ]
    assert read(storage, lambda s: s.timestamp("record", RECORDS)) == tombstone["last_modified"]


# --- timestamps ----------------------------------------------------------------------


def test_timestamp_is_zero_for_an_unknown_list(storage: Storage) -> None:
    assert read(storage, lambda s: s.timestamp("record", RECORDS)) == 0


def test_last_modified_strictly_increases_within_one_millisecond(storage: Storage) -> None:
    with transaction(storage) as session:
        stamps = [
            session.update("record", RECORDS, {"id": f"r{i}"})["last_modified"] for i in range(300)
        ]
        stamps.append(session.delete("record", RECORDS, "r0")["last_modified"])
    assert stamps == sorted(set(stamps))
    assert stamps[-1] - stamps[0] < 10_000, "stamps follow the clock, not a counter from 0"
    assert stamps[0] > 1_600_000_000_000
    assert read(storage, lambda s: s.timestamp("record", RECORDS)) == stamps[-1]


def test_timestamps_are_per_parent_and_resource(storage: Storage) -> None:
    with transaction(storage) as session:
        record = session.create("record", RECORDS, {"id": "x"})
        collection = session.create("collection", "/buckets/b", {"id": "c"})
    assert read(storage, lambda s: s.timestamp("record", RECORDS)) == record["last_modified"]
    assert (
        read(storage, lambda s: s.timestamp("collection", "/buckets/b"))
        == (collection["last_modified"])
    )
    assert read(storage, lambda s: s.timestamp("collection", RECORDS)) == 0


def test_last_modified_keeps_increasing_across_transactions(storage: Storage) -> None:
    stamps = []
    for i in range(20):
        with transaction(storage) as session:
            stamps.append(session.update("record", RECORDS, {"id": "r", "i": i})["last_modified"])
    assert stamps == sorted(set(stamps))


# --- purge_children ------------------------------------------------------------------


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


def test_purge_children_returns_live_objects_parents_first(storage: Storage) -> None:
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


def test_purge_children_removes_tombstones_and_timestamps(storage: Storage) -> None:
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
def test_purge_children_leaves_siblings_alone(storage: Storage, sibling: str) -> None:
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


# --- list: filters -------------------------------------------------------------------

DATA = [
    {"id": "r1", "n": 1, "s": "a", "flag": True, "nested": {"x": 1}, "mixed": 5},
    {"id": "r2", "n": 2, "s": "b", "flag": False, "nested": {"x": 2}, "mixed": "5"},
    {"id": "r3", "n": 10, "s": "B", "nested": {"x": "10"}, "mixed": None},
    {"id": "r4", "n": 2.5, "s": "ab", "mixed": "abc"},
    {"id": "r5", "s": None, "mixed": True},
]

FILTERS = [
    (Filter("n", Op.EQ, 2), {"r2"}),
    (Filter("n", Op.EQ, 2.0), {"r2"}),
    (Filter("n", Op.NOT, 2), {"r1", "r3", "r4", "r5"}),
    (Filter("n", Op.LT, 2.5), {"r1", "r2"}),
    (Filter("n", Op.GT, 2), {"r3", "r4"}),
    (Filter("n", Op.MIN, 2), {"r2", "r3", "r4"}),
    (Filter("n", Op.MAX, 2), {"r1", "r2"}),
    (Filter("n", Op.IN, [1, 10]), {"r1", "r3"}),
    (Filter("n", Op.IN, []), set()),
    (Filter("n", Op.EXCLUDE, [1, 2]), {"r3", "r4", "r5"}),
    (Filter("n", Op.EXCLUDE, []), {"r1", "r2", "r3", "r4", "r5"}),
    (Filter("n", Op.HAS, True), {"r1", "r2", "r3", "r4"}),
    (Filter("n", Op.HAS, False), {"r5"}),
    # strings compare bytewise: "B" < "a" < "ab" < "b"
    (Filter("s", Op.EQ, "b"), {"r2"}),
    (Filter("s", Op.LT, "b"), {"r1", "r3", "r4"}),
    (Filter("s", Op.GT, "B"), {"r1", "r2", "r4"}),
    (Filter("s", Op.MAX, "ab"), {"r1", "r3", "r4"}),
    (Filter("s", Op.IN, ["a", "b"]), {"r1", "r2"}),
    (Filter("s", Op.EXCLUDE, ["a", "b"]), {"r3", "r4", "r5"}),
    (Filter("s", Op.EQ, None), {"r5"}),
    (Filter("s", Op.NOT, None), {"r1", "r2", "r3", "r4"}),
    (Filter("s", Op.HAS, False), {"r5"}),
    # LIKE: '*' is the wildcard; without one, anywhere; ASCII case does not matter
    (Filter("s", Op.LIKE, "a"), {"r1", "r4"}),
    (Filter("s", Op.LIKE, "b"), {"r2", "r3", "r4"}),
    (Filter("s", Op.LIKE, "a*"), {"r1", "r4"}),
    (Filter("s", Op.LIKE, "*b"), {"r2", "r3", "r4"}),
    (Filter("s", Op.LIKE, "%"), set()),
    (Filter("n", Op.LIKE, "1"), {"r1", "r3"}),
    # booleans are 1 and 0, as SQLite's json_extract gives them
    (Filter("flag", Op.EQ, True), {"r1"}),
    (Filter("flag", Op.EQ, False), {"r2"}),
    (Filter("flag", Op.NOT, True), {"r2", "r3", "r4", "r5"}),
    # a number never equals a string; null and missing match no comparison
    (Filter("mixed", Op.EQ, 5), {"r1"}),
    (Filter("mixed", Op.EQ, "5"), {"r2"}),
    (Filter("mixed", Op.IN, [5, "abc"]), {"r1", "r4"}),
    # numbers (and booleans) sort below strings
    (Filter("mixed", Op.LT, 100), {"r1", "r5"}),
    (Filter("mixed", Op.GT, 100), {"r2", "r4"}),
    (Filter("mixed", Op.GT, "a"), {"r4"}),
    (Filter("mixed", Op.LT, "a"), {"r1", "r2", "r5"}),
    # dotted fields
    (Filter("nested.x", Op.EQ, 1), {"r1"}),
    (Filter("nested.x", Op.EQ, "10"), {"r3"}),
    (Filter("nested.x", Op.GT, 1), {"r2", "r3"}),
    (Filter("nested.x", Op.HAS, True), {"r1", "r2", "r3"}),
    (Filter("nested.nope", Op.HAS, True), set()),
    (Filter("nested", Op.HAS, True), {"r1", "r2", "r3"}),
    # columns
    (Filter("id", Op.EQ, "r3"), {"r3"}),
    (Filter("id", Op.IN, ["r1", "r5", "zz"]), {"r1", "r5"}),
    (Filter("id", Op.NOT, "r3"), {"r1", "r2", "r4", "r5"}),
    (Filter("id", Op.LT, "r3"), {"r1", "r2"}),
    (Filter("id", Op.LIKE, "r*"), {"r1", "r2", "r3", "r4", "r5"}),
    (Filter("id", Op.EXCLUDE, ["r1"]), {"r2", "r3", "r4", "r5"}),
]


@pytest.fixture
def data(storage: Storage) -> list[dict[str, Any]]:
    return create_records(storage, *DATA)


def ids(objects: list[dict[str, Any]]) -> list[str]:
    return [obj["id"] for obj in objects]


@pytest.mark.parametrize(("flt", "expected"), FILTERS, ids=lambda v: repr(v))
def test_list_filter(storage: Storage, data: Any, flt: Filter, expected: set[str]) -> None:
    found = read(storage, lambda s: s.list("record", RECORDS, Selection(filters=[flt])))
    assert set(ids(found)) == expected
    assert read(storage, lambda s: s.count("record", RECORDS, filters=[flt])) == len(expected)


def test_numeric_ids_compare_as_text(storage: Storage) -> None:
    create_records(storage, {"id": "5"}, {"id": "10"})
    found = read(
        storage, lambda s: s.list("record", RECORDS, Selection(filters=[Filter("id", Op.EQ, 5)]))
    )
    assert ids(found) == ["5"]


def test_filters_on_last_modified(storage: Storage, data: list[dict[str, Any]]) -> None:
    middle = data[2]["last_modified"]
    after = [Filter("last_modified", Op.GT, middle)]
    assert set(
        ids(read(storage, lambda s: s.list("record", RECORDS, Selection(filters=after))))
    ) == {
        "r4",
        "r5",
    }
    until = [Filter("last_modified", Op.MAX, middle)]
    assert read(storage, lambda s: s.count("record", RECORDS, filters=until)) == 3


def test_filters_are_anded(storage: Storage, data: Any) -> None:
    filters = [Filter("n", Op.MIN, 2), Filter("s", Op.LIKE, "b")]
    assert set(
        ids(read(storage, lambda s: s.list("record", RECORDS, Selection(filters=filters))))
    ) == {
        "r2",
        "r3",
        "r4",
    }


def test_include_deleted_lets_tombstones_pass_data_filters(storage: Storage, data: Any) -> None:
    with transaction(storage) as session:
        tombstone = session.delete("record", RECORDS, "r2")
    filters = [Filter("s", Op.EQ, "a")]
    found = read(
        storage,
        lambda s: s.list("record", RECORDS, Selection(filters=filters, include_deleted=True)),
    )
    assert sorted(ids(found)) == ["r1", "r2"]
    assert tombstone in found
    since = [Filter("last_modified", Op.GT, tombstone["last_modified"])]
    assert (
        read(storage, lambda s: s.list("record", RECORDS, Selection(since, include_deleted=True)))
        == []
    )
    assert read(storage, lambda s: s.count("record", RECORDS)) == 4


# --- list: sorting, pagination, limit ------------------------------------------------


def sorted_ids(storage: Storage, *sorting: Sort) -> list[str]:
    return ids(read(storage, lambda s: s.list("record", RECORDS, Selection(sorting=sorting))))


def test_default_order_is_newest_first(storage: Storage, data: Any) -> None:
    assert sorted_ids(storage) == ["r5", "r4", "r3", "r2", "r1"]


def test_sort_numbers_with_nulls_last(storage: Storage, data: Any) -> None:
    assert sorted_ids(storage, Sort("n")) == ["r1", "r2", "r4", "r3", "r5"]
    assert sorted_ids(storage, Sort("n", descending=True)) == ["r5", "r3", "r4", "r2", "r1"]


def test_sort_strings_bytewise(storage: Storage, data: Any) -> None:
    assert sorted_ids(storage, Sort("s")) == ["r3", "r1", "r4", "r2", "r5"]


def test_sort_mixed_types_numbers_before_strings(storage: Storage, data: Any) -> None:
    assert sorted_ids(storage, Sort("mixed")) == ["r5", "r1", "r2", "r4", "r3"]


def test_sort_dotted_field_and_columns(storage: Storage, data: Any) -> None:
    assert sorted_ids(storage, Sort("nested.x"))[:3] == ["r1", "r2", "r3"]
    assert sorted_ids(storage, Sort("id", descending=True)) == ["r5", "r4", "r3", "r2", "r1"]
    assert sorted_ids(storage, Sort("last_modified")) == ["r1", "r2", "r3", "r4", "r5"]


def test_sort_on_several_fields(storage: Storage) -> None:
    create_records(
        storage,
        {"id": "a", "g": 1, "h": "x"},
        {"id": "b", "g": 0, "h": "z"},
        {"id": "c", "g": 1, "h": "y"},
        {"id": "d", "g": 0, "h": "a"},
    )
    assert sorted_ids(storage, Sort("g"), Sort("h", descending=True)) == ["b", "d", "c", "a"]
    assert sorted_ids(storage, Sort("g", descending=True), Sort("id")) == ["a", "c", "b", "d"]


def test_limit(storage: Storage, data: Any) -> None:
    found = read(
        storage, lambda s: s.list("record", RECORDS, Selection(sorting=[Sort("id")], limit=2))
    )
    assert ids(found) == ["r1", "r2"]


def test_pagination_groups_are_ored(storage: Storage, data: Any) -> None:
    """The groups Kinto's Next-Page token builds: after (n=2, id=r2) sorting by n, id."""
    pagination = [
        [Filter("n", Op.EQ, 2), Filter("id", Op.GT, "r2")],
        [Filter("n", Op.GT, 2)],
        [Filter("n", Op.HAS, False)],
    ]
    found = read(
        storage,
        lambda s: s.list(
            "record",
            RECORDS,
            Selection(
                filters=[Filter("id", Op.NOT, "r3")],
                sorting=[Sort("n"), Sort("id")],
                pagination=pagination,
                limit=10,
            ),
        ),
    )
    assert ids(found) == ["r4", "r5"]


def test_pages_cover_everything_once(storage: Storage) -> None:
    create_records(storage, *({"id": f"r{i:02}", "g": i % 3} for i in range(20)))
    seen: list[str] = []
    last: dict[str, Any] | None = None
    while True:
        groups = []
        if last is not None:
            groups = [[Filter("g", Op.EQ, last["g"]), Filter("id", Op.GT, last["id"])]]
            groups.append([Filter("g", Op.GT, last["g"])])
        page = read(
            storage,
            lambda s, groups=groups: s.list(
                "record",
                RECORDS,
                Selection(sorting=[Sort("g"), Sort("id")], pagination=groups, limit=6),
            ),
        )
        if not page:
            break
        seen += ids(page)
        last = page[-1]
    assert sorted(seen) == [f"r{i:02}" for i in range(20)]
    assert len(seen) == 20


# --- permissions ---------------------------------------------------------------------


def test_permissions_set_get_replace(storage: Storage) -> None:
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


def test_delete_permissions_takes_the_uri_and_everything_below(storage: Storage) -> None:
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
    assert left == {"/buckets/b2", "/buckets/b_other", "/buckets/b-2", "/buckets/b2/collections/c"}


def test_accessible_ids(storage: Storage) -> None:
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
    assert query("/buckets/b1", "collections", ["alice", "system.Everyone"], ["read", "write"]) == {
        "c",
        "d",
    }


# --- transactions --------------------------------------------------------------------


def test_uncommitted_writes_are_invisible_then_visible(storage: Storage) -> None:
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


def test_a_rolled_back_session_leaves_nothing(storage: Storage) -> None:
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


def test_a_rolled_back_delete_and_purge_restore_everything(storage: Storage) -> None:
    build_tree(storage)
    session = storage.session(write=True)
    session.delete("bucket", "", "b")
    session.purge_children("/buckets/b")
    session.rollback()
    assert read(storage, lambda s: s.get("record", "/buckets/b/collections/d", "r2")) is not None


def test_read_then_write_in_write_sessions_does_not_lose_updates(storage: Storage) -> None:
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


def test_healthy(storage: Storage) -> None:
    assert storage.healthy() is True


def test_list_json_gives_the_objects_of_list_as_json_text(storage: Storage) -> None:
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
