"""Kinto's own Python client against the real app served by waitress."""

from __future__ import annotations

import kinto_http
import pytest
from kinto_http.patch_type import BasicPatch, JSONPatch, MergePatch

from tests.conftest import ALICE_ID


@pytest.fixture
def client(live_server: str) -> kinto_http.Client:
    return kinto_http.Client(server_url=live_server + "/v1", auth=("token", "alice-token"))


def test_server_info(client: kinto_http.Client) -> None:
    info = client.server_info()
    assert info["user"]["id"] == ALICE_ID


def test_buckets(client: kinto_http.Client) -> None:
    created = client.create_bucket(id="b", data={"title": "B"})
    assert created["data"]["title"] == "B"
    assert client.create_bucket(id="b", if_not_exists=True)["data"]["id"] == "b"
    with pytest.raises(kinto_http.KintoException):
        client.create_bucket(id="b")
    assert client.get_bucket(id="b")["data"]["title"] == "B"
    assert [each["id"] for each in client.get_buckets()] == ["b"]
    client.update_bucket(id="b", data={"title": "C"})
    assert client.get_bucket(id="b")["data"] == {
        "id": "b",
        "title": "C",
        "last_modified": client.get_bucket(id="b")["data"]["last_modified"],
    }
    client.patch_bucket(id="b", data={"extra": 1})
    assert client.get_bucket(id="b")["data"]["extra"] == 1
    assert client.delete_bucket(id="b")["deleted"] is True
    assert client.delete_bucket(id="b", if_exists=True) is None
    client.create_bucket(id="x")
    client.create_bucket(id="y")
    assert sorted(each["id"] for each in client.delete_buckets()) == ["x", "y"]


def test_collections(client: kinto_http.Client) -> None:
    client.create_bucket(id="b")
    client.create_collection(id="c", bucket="b", data={"n": 1})
    assert client.get_collection(id="c", bucket="b")["data"]["n"] == 1
    assert [each["id"] for each in client.get_collections(bucket="b")] == ["c"]
    client.update_collection(id="c", bucket="b", data={"n": 2})
    client.patch_collection(id="c", bucket="b", data={"m": 3})
    data = client.get_collection(id="c", bucket="b")["data"]
    assert (data["n"], data["m"]) == (2, 3)
    assert client.delete_collection(id="c", bucket="b")["deleted"] is True
    assert client.get_collections(bucket="b") == []


def test_records(client: kinto_http.Client) -> None:
    client.create_bucket(id="b")
    client.create_collection(id="c", bucket="b")
    kw = {"bucket": "b", "collection": "c"}
    created = client.create_record(data={"title": "one"}, **kw)
    record_id = created["data"]["id"]
    client.create_record(id="two", data={"title": "two"}, **kw)
    assert client.get_record(id=record_id, **kw)["data"]["title"] == "one"
    titles = sorted(each["title"] for each in client.get_records(**kw))
    assert titles == ["one", "two"]
    client.update_record(id="two", data={"title": "2"}, **kw)
    client.patch_record(id="two", changes=BasicPatch(data={"x": 1}), **kw)
    client.patch_record(id="two", changes=MergePatch(data={"x": None}), **kw)
    json_patch = JSONPatch([{"op": "add", "path": "/data/y", "value": 2}])
    client.patch_record(id="two", changes=json_patch, **kw)
    data = client.get_record(id="two", **kw)["data"]
    assert (data["title"], data.get("x"), data["y"]) == ("2", None, 2)
    assert client.get_records(title="second", **kw) == []
    client.patch_record(id="two", data={"title": "second"}, **kw)
    assert client.get_records(title="second", **kw)[0]["id"] == "two"
    assert client.delete_record(id="two", **kw)["deleted"] is True
    assert [each["id"] for each in client.delete_records(**kw)] == [record_id]


def test_records_over_several_pages(client: kinto_http.Client) -> None:
    client.create_bucket(id="b")
    client.create_collection(id="c", bucket="b")
    with client.batch(bucket="b", collection="c") as batch:
        for n in range(25):
            batch.create_record(id=f"r{n:02}", data={"n": n})
    records = client.get_records(
        bucket="b", collection="c", _limit=4, _sort="n", pages=float("inf")
    )
    assert [each["n"] for each in records] == list(range(25))
    timestamp = client.get_records_timestamp(bucket="b", collection="c")
    assert int(timestamp) == max(each["last_modified"] for each in records)


def test_history_of_changes_with_since(client: kinto_http.Client) -> None:
    client.create_bucket(id="b")
    client.create_collection(id="c", bucket="b")
    kw = {"bucket": "b", "collection": "c"}
    client.create_record(id="r", data={}, **kw)
    since = client.get_records_timestamp(**kw)
    client.delete_record(id="r", **kw)
    changes = client.get_records(_since=since, **kw)
    assert changes[0]["id"] == "r" and changes[0]["deleted"] is True


def test_batch(client: kinto_http.Client) -> None:
    with client.batch() as batch:
        batch.create_bucket(id="b")
        batch.create_collection(id="c", bucket="b")
        batch.create_record(id="r", data={"n": 1}, bucket="b", collection="c")
    results = batch.results()
    assert [result["data"]["id"] for result in results] == ["b", "c", "r"]
    assert client.get_record(id="r", bucket="b", collection="c")["data"]["n"] == 1


def test_batch_with_an_error_raises(client: kinto_http.Client) -> None:
    client.create_bucket(id="b")
    with pytest.raises(kinto_http.KintoBatchException), client.batch() as batch:
        batch.create_collection(id="c", bucket="b")
        batch.create_record(id="r", data={}, bucket="b", collection="missing")


def test_default_bucket(client: kinto_http.Client) -> None:
    kw = {"bucket": "default", "collection": "tasks"}
    client.create_record(data={"title": "x"}, **kw)
    assert [each["title"] for each in client.get_records(**kw)] == ["x"]
    bucket = client.get_bucket(id="default")
    assert bucket["data"]["id"] == client.server_info()["user"]["bucket"]


def test_permissions(client: kinto_http.Client, live_server: str) -> None:
    bob = kinto_http.Client(server_url=live_server + "/v1", auth=("token", "bob-token"))
    client.create_bucket(id="b", permissions={"read": ["system.Authenticated"]})
    assert bob.get_bucket(id="b")["data"]["id"] == "b"
    with pytest.raises(kinto_http.KintoException) as raised:
        bob.update_bucket(id="b", data={"x": 1})
    assert raised.value.response.status_code == 403


def test_safe_update_of_a_stale_record_is_refused(client: kinto_http.Client) -> None:
    client.create_bucket(id="b")
    client.create_collection(id="c", bucket="b")
    kw = {"bucket": "b", "collection": "c"}
    old = client.create_record(id="r", data={"n": 1}, **kw)["data"]
    client.update_record(id="r", data={**old, "n": 2}, safe=True, **kw)
    with pytest.raises(kinto_http.KintoException) as raised:
        client.update_record(id="r", data={**old, "n": 3}, safe=True, **kw)
    assert raised.value.response.status_code == 412
    assert client.get_record(id="r", **kw)["data"]["n"] == 2
