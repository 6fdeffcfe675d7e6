"""Conformance, part two: listing with filters, sorting and pagination."""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest

from notifier.storage import Filter, Op, Selection, Sort, Storage, transaction
from notifier.storage.testing.helpers import RECORDS, create_records, read

DATA: list[dict[str, Any]] = [
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


def ids(objects: list[dict[str, Any]]) -> list[str]:
    return [obj["id"] for obj in objects]


def list_records(session: Any, selection: Selection) -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = session.list("record", RECORDS, selection)
    return objects


def sorted_ids(storage: Storage, *sorting: Sort) -> list[str]:
    return ids(read(storage, lambda s: s.list("record", RECORDS, Selection(sorting=sorting))))


class ListingConformance:
    """``list`` and ``count``: filters, sorting, limits and pagination."""

    @pytest.fixture
    def data(self, storage: Storage) -> list[dict[str, Any]]:
        return create_records(storage, *DATA)

    @pytest.mark.parametrize(("flt", "expected"), FILTERS, ids=lambda v: repr(v))
    def test_list_filter(
        self, storage: Storage, data: Any, flt: Filter, expected: set[str]
    ) -> None:
        found = read(storage, lambda s: s.list("record", RECORDS, Selection(filters=[flt])))
        assert set(ids(found)) == expected
        assert read(storage, lambda s: s.count("record", RECORDS, filters=[flt])) == len(expected)

    def test_numeric_ids_compare_as_text(self, storage: Storage) -> None:
        create_records(storage, {"id": "5"}, {"id": "10"})
        found = read(
            storage,
            lambda s: s.list("record", RECORDS, Selection(filters=[Filter("id", Op.EQ, 5)])),
        )
        assert ids(found) == ["5"]

    def test_filters_on_last_modified(self, storage: Storage, data: list[dict[str, Any]]) -> None:
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

    def test_filters_are_anded(self, storage: Storage, data: Any) -> None:
        filters = [Filter("n", Op.MIN, 2), Filter("s", Op.LIKE, "b")]
        assert set(
            ids(read(storage, lambda s: s.list("record", RECORDS, Selection(filters=filters))))
        ) == {
            "r2",
            "r3",
            "r4",
        }

    def test_include_deleted_lets_tombstones_pass_data_filters(
        self, storage: Storage, data: Any
    ) -> None:
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
            read(
                storage, lambda s: s.list("record", RECORDS, Selection(since, include_deleted=True))
            )
            == []
        )
        assert read(storage, lambda s: s.count("record", RECORDS)) == 4

    # --- list: sorting, pagination, limit ------------------------------------------------

    def test_default_order_is_newest_first(self, storage: Storage, data: Any) -> None:
        assert sorted_ids(storage) == ["r5", "r4", "r3", "r2", "r1"]

    def test_sort_numbers_with_nulls_last(self, storage: Storage, data: Any) -> None:
        assert sorted_ids(storage, Sort("n")) == ["r1", "r2", "r4", "r3", "r5"]
        assert sorted_ids(storage, Sort("n", descending=True)) == ["r5", "r3", "r4", "r2", "r1"]

    def test_sort_strings_bytewise(self, storage: Storage, data: Any) -> None:
        assert sorted_ids(storage, Sort("s")) == ["r3", "r1", "r4", "r2", "r5"]

    def test_sort_mixed_types_numbers_before_strings(self, storage: Storage, data: Any) -> None:
        assert sorted_ids(storage, Sort("mixed")) == ["r5", "r1", "r2", "r4", "r3"]

    def test_sort_dotted_field_and_columns(self, storage: Storage, data: Any) -> None:
        assert sorted_ids(storage, Sort("nested.x"))[:3] == ["r1", "r2", "r3"]
        assert sorted_ids(storage, Sort("id", descending=True)) == ["r5", "r4", "r3", "r2", "r1"]
        assert sorted_ids(storage, Sort("last_modified")) == ["r1", "r2", "r3", "r4", "r5"]

    def test_sort_on_several_fields(self, storage: Storage) -> None:
        create_records(
            storage,
            {"id": "a", "g": 1, "h": "x"},
            {"id": "b", "g": 0, "h": "z"},
            {"id": "c", "g": 1, "h": "y"},
            {"id": "d", "g": 0, "h": "a"},
        )
        assert sorted_ids(storage, Sort("g"), Sort("h", descending=True)) == ["b", "d", "c", "a"]
        assert sorted_ids(storage, Sort("g", descending=True), Sort("id")) == ["a", "c", "b", "d"]

    def test_limit(self, storage: Storage, data: Any) -> None:
        found = read(
            storage, lambda s: s.list("record", RECORDS, Selection(sorting=[Sort("id")], limit=2))
        )
        assert ids(found) == ["r1", "r2"]

    def test_pagination_groups_are_ored(self, storage: Storage, data: Any) -> None:
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

    def test_pages_cover_everything_once(self, storage: Storage) -> None:
        create_records(storage, *({"id": f"r{i:02}", "g": i % 3} for i in range(20)))
        seen: list[str] = []
        last: dict[str, Any] | None = None
        while True:
            groups: list[list[Filter]] = []
            if last is not None:
                groups = [[Filter("g", Op.EQ, last["g"]), Filter("id", Op.GT, last["id"])]]
                groups.append([Filter("g", Op.GT, last["g"])])
            selection = Selection(sorting=[Sort("g"), Sort("id")], pagination=groups, limit=6)
            page = read(storage, partial(list_records, selection=selection))
            if not page:
                break
            seen += ids(page)
            last = page[-1]
        assert sorted(seen) == [f"r{i:02}" for i in range(20)]
        assert len(seen) == 20

    # --- permissions ---------------------------------------------------------------------
