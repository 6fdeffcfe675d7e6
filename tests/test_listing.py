"""Plural GET: filters, sorting, fields, pagination, _since/_before, Total-Objects."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from webtest import TestApp

from tests.conftest import ALICE
from tests.helpers import open_app

RECORDS = "/v1/buckets/b/collections/c/records"

ANIMALS = [
    {"id": "a1", "name": "cat", "legs": 4, "size": "small", "tags": {"pet": True}},
    {"id": "a2", "name": "dog", "legs": 4, "size": "medium", "tags": {"pet": True}},
    {"id": "a3", "name": "duck", "legs": 2, "size": "small"},
    {"id": "a4", "name": "snake", "legs": 0, "size": "large", "tags": {"pet": False}},
    {"id": "a5", "name": "spider", "legs": 8},
]


@pytest.fixture
def animals(app: TestApp) -> str:
    app.put_json("/v1/buckets/b", {}, headers=ALICE)
    app.put_json("/v1/buckets/b/collections/c", {}, headers=ALICE)
    for animal in ANIMALS:
        app.post_json(RECORDS, {"data": animal}, headers=ALICE, status=201)
    return RECORDS


def ids(app: TestApp, query: str) -> list[str]:
    response = app.get(f"{RECORDS}?{query}", headers=ALICE, status=200)
    return [each["id"] for each in response.json["data"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("legs=4", ["a1", "a2"]),
        ("name=cat", ["a1"]),
        ("min_legs=4", ["a1", "a2", "a5"]),
        ("max_legs=2", ["a3", "a4"]),
        ("lt_legs=4", ["a3", "a4"]),
        ("gt_legs=4", ["a5"]),
        ("in_name=cat,duck", ["a1", "a3"]),
        ("not_legs=4", ["a3", "a4", "a5"]),
        ("exclude_name=cat,dog", ["a3", "a4", "a5"]),
        ("like_name=uc", ["a3"]),
        ("like_name=*er", ["a5"]),
        ("like_name=s*", ["a4", "a5"]),
        ("has_size=true", ["a1", "a2", "a3", "a4"]),
        ("has_size=false", ["a5"]),
        ("tags.pet=true", ["a1", "a2"]),
        ("size=small&legs=2", ["a3"]),
        ("in_id=a1,a5", ["a1", "a5"]),
    ],
)
def test_filters(app: TestApp, animals: str, query: str, expected: list[str]) -> None:
    assert sorted(ids(app, query)) == expected


def test_default_order_is_newest_first(app: TestApp, animals: str) -> None:
    assert ids(app, "") == ["a5", "a4", "a3", "a2", "a1"]


def test_sort_on_several_fields_and_descending(app: TestApp, animals: str) -> None:
    assert ids(app, "_sort=-legs,name") == ["a5", "a1", "a2", "a3", "a4"]
    assert ids(app, "_sort=legs,-name") == ["a4", "a3", "a2", "a1", "a5"]


def test_sort_puts_missing_fields_last(app: TestApp, animals: str) -> None:
    assert ids(app, "_sort=size,id") == ["a4", "a2", "a1", "a3", "a5"]


def test_fields_keeps_only_the_named_fields(app: TestApp, animals: str) -> None:
    data = app.get(f"{RECORDS}?_fields=name&id=a1", headers=ALICE).json["data"]
    assert data == [{"id": "a1", "name": "cat", "last_modified": data[0]["last_modified"]}]


def test_fields_with_a_dotted_name_keeps_only_the_nested_field(app: TestApp, animals: str) -> None:
    data = app.get(f"{RECORDS}?_fields=tags.pet,nope.x&in_id=a1,a3&_sort=id", headers=ALICE)
    assert [
        {k: v for k, v in each.items() if k != "last_modified"} for each in data.json["data"]
    ] == [
        {"id": "a1", "tags": {"pet": True}},
        {"id": "a3"},
    ]


def walk(app: TestApp, url: str) -> tuple[list[str], int]:
    """Follow Next-Page to the end; return every id seen and the number of pages."""
    seen: list[str] = []
    pages = 0
    while url:
        response = app.get(url, headers=ALICE, status=200)
        seen += [each["id"] for each in response.json["data"]]
        pages += 1
        next_page = response.headers.get("Next-Page")
        url = "" if next_page is None else _local(next_page)
    return seen, pages


def _local(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


@pytest.mark.parametrize(
    "sort", ["", "&_sort=name", "&_sort=-legs,name", "&_sort=size", "&_sort=-size"]
)
def test_pagination_walks_every_object_once(app: TestApp, animals: str, sort: str) -> None:
    seen, pages = walk(app, f"{RECORDS}?_limit=2{sort}")
    expected = ids(app, sort.lstrip("&"))
    assert seen == expected
    assert pages == 3


def test_pagination_with_equal_timestamps_loses_nothing(app: TestApp) -> None:
    app.put_json("/v1/buckets/b", {}, headers=ALICE)
    app.put_json("/v1/buckets/b/collections/c", {}, headers=ALICE)
    requests = [
        {"method": "POST", "path": RECORDS, "body": {"data": {"id": f"r{n:02}", "n": n % 3}}}
        for n in range(20)
    ]
    app.post_json("/v1/batch", {"requests": requests}, headers=ALICE, status=200)
    seen, _ = walk(app, f"{RECORDS}?_limit=3&_sort=n")
    assert sorted(seen) == [f"r{n:02}" for n in range(20)]
    assert len(seen) == 20


def test_next_page_keeps_the_filters(app: TestApp, animals: str) -> None:
    first = app.get(f"{RECORDS}?_limit=1&legs=4", headers=ALICE)
    assert "legs=4" in first.headers["Next-Page"]
    seen, _ = walk(app, f"{RECORDS}?_limit=1&legs=4")
    assert sorted(seen) == ["a1", "a2"]


def test_since_and_before(app: TestApp, animals: str) -> None:
    records = app.get(RECORDS, headers=ALICE).json["data"]
    stamps = {each["id"]: each["last_modified"] for each in records}
    assert sorted(ids(app, f"_since={stamps['a3']}")) == ["a4", "a5"]
    assert sorted(ids(app, f"_before={stamps['a3']}")) == ["a1", "a2"]


def test_since_includes_tombstones(app: TestApp, animals: str) -> None:
    stamp = int(app.get(RECORDS, headers=ALICE).headers["ETag"].strip('"'))
    app.delete(f"{RECORDS}/a2", headers=ALICE)
    app.patch_json(f"{RECORDS}/a1", {"data": {"legs": 3}}, headers=ALICE)
    data = app.get(f"{RECORDS}?_since={stamp}", headers=ALICE).json["data"]
    assert [each["id"] for each in data] == ["a1", "a2"]
    assert data[1]["deleted"] is True
    assert "deleted" not in data[0]


def test_since_with_a_filter_still_reports_deletions(app: TestApp, animals: str) -> None:
    stamp = int(app.get(RECORDS, headers=ALICE).headers["ETag"].strip('"'))
    app.delete(f"{RECORDS}/a4", headers=ALICE)
    assert ids(app, f"_since={stamp}&legs=4") == ["a4"]


def test_without_since_tombstones_are_hidden(app: TestApp, animals: str) -> None:
    app.delete(f"{RECORDS}/a2", headers=ALICE)
    assert "a2" not in ids(app, "")


def test_head_gives_total_objects(app: TestApp, animals: str) -> None:
    response = app.head(f"{RECORDS}?legs=4&_limit=1", headers=ALICE, status=200)
    assert response.headers["Total-Objects"] == "2"
    assert response.body == b""


def test_etag_of_a_list_is_its_latest_change(app: TestApp, animals: str) -> None:
    response = app.get(RECORDS, headers=ALICE)
    assert response.headers["ETag"] == f'"{response.json["data"][0]["last_modified"]}"'


def test_default_paginate_by(settings: dict[str, str]) -> None:

    settings["notifier.paginate_by"] = "2"
    app = open_app(**settings)
    app.put_json("/v1/buckets/b", {}, headers=ALICE)
    for n in range(3):
        app.put_json(f"/v1/buckets/b/collections/c{n}", {}, headers=ALICE)
    response = app.get("/v1/buckets/b/collections", headers=ALICE)
    assert len(response.json["data"]) == 2
    assert "Next-Page" in response.headers
