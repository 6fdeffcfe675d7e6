"""kinto-http's documented workflow against real server processes set up as Kinto test servers.

Accounts, buckets, groups, collections, records, sharing between users,
batch, JSON-Patch, permissions, replication between two servers, and the
flush endpoint, all through kinto-http itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import kinto_http
import pytest
from kinto_http.patch_type import JSONPatch
from kinto_http.replication import replicate

from tests.kinto_server import kinto_test_server


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with kinto_test_server(tmp_path_factory.mktemp("kinto-test-server")) as url:
        yield url


@pytest.fixture
def server(shared_server: str) -> Iterator[str]:
    """The module's server, emptied after each test with its own flush endpoint."""
    yield shared_server
    kinto_http.Client(server_url=shared_server + "/v1").session.request("post", "/__flush__")


def sign_up(server: str, user: str, password: str) -> kinto_http.Client:
    """Create the account as kinto-http's own tests do, through the unversioned path."""
    anonymous = kinto_http.Client(server_url=server)
    anonymous.session.request("put", f"/accounts/{user}", payload={"data": {"password": password}})
    return kinto_http.Client(server_url=server + "/v1", auth=(user, password))


def test_accounts_and_server_info(server: str) -> None:
    alice = sign_up(server, "alice", "alice-pw")
    assert alice.server_info()["user"]["id"] == "account:alice"
    assert {"accounts", "flush_endpoint", "permissions_endpoint"} <= set(
        alice.server_info()["capabilities"]
    )
    account, _ = alice.session.request("get", "/accounts/alice")
    assert account["data"]["id"] == "alice"
    alice.session.request("patch", "/accounts/alice", payload={"data": {"password": "new-pw"}})
    with pytest.raises(kinto_http.KintoException) as raised:
        alice.get_buckets()
    assert raised.value.response.status_code == 401
    renewed = kinto_http.Client(server_url=server + "/v1", auth=("alice", "new-pw"))
    assert renewed.server_info()["user"]["id"] == "account:alice"


def test_buckets_groups_collections_records_and_sharing(server: str) -> None:
    alice = sign_up(server, "alice", "alice-pw")
    bob = sign_up(server, "bob", "bob-pw")
    alice.create_bucket(id="blog")
    alice.create_group(id="editors", bucket="blog", data={"members": ["account:bob"]})
    assert alice.get_group(id="editors", bucket="blog")["data"]["members"] == ["account:bob"]
    alice.create_collection(
        id="articles", bucket="blog", permissions={"write": ["/buckets/blog/groups/editors"]}
    )
    kw = {"bucket": "blog", "collection": "articles"}
    alice.create_record(id="first", data={"title": "Hello"}, **kw)
    bob.create_record(id="second", data={"title": "From Bob"}, **kw)
    assert sorted(r["id"] for r in bob.get_records(**kw)) == ["first", "second"]
    bob.patch_record(
        id="first", changes=JSONPatch([{"op": "add", "path": "/data/tags", "value": ["x"]}]), **kw
    )
    assert alice.get_record(id="first", **kw)["data"]["tags"] == ["x"]
    alice.patch_group(id="editors", bucket="blog", data={"members": []})
    assert [r["id"] for r in bob.get_records(**kw)] == ["second"]  # his own, no more
    with pytest.raises(kinto_http.KintoException) as raised:
        bob.get_record(id="first", **kw)
    assert raised.value.response.status_code == 403
    assert [g["id"] for g in alice.get_groups(bucket="blog")] == ["editors"]
    alice.delete_group(id="editors", bucket="blog")
    assert alice.get_groups(bucket="blog") == []


def test_batch_and_permissions_endpoint(server: str) -> None:
    alice = sign_up(server, "alice", "alice-pw")
    bob = sign_up(server, "bob", "bob-pw")
    with alice.batch() as batch:
        batch.create_bucket(id="shared", permissions={"read": ["account:bob"]})
        batch.create_collection(id="notes", bucket="shared")
        for n in range(3):
            batch.create_record(id=f"n{n}", data={"n": n}, bucket="shared", collection="notes")
    assert [r["data"]["id"] for r in batch.results()] == ["shared", "notes", "n0", "n1", "n2"]
    assert len(bob.get_records(bucket="shared", collection="notes")) == 3
    [entry] = bob.get_permissions()
    assert (entry["uri"], entry["permissions"]) == ("/buckets/shared", ["read"])
    alices = alice.get_permissions(exclude_resource_names=["record"])
    assert sorted(e["uri"] for e in alices) == [
        "/buckets/shared",
        "/buckets/shared/collections/notes",
    ]


def test_replication_between_two_servers(server: str, tmp_path: Path) -> None:
    with kinto_test_server(tmp_path / "two") as other:
        origin = sign_up(server, "alice", "alice-pw")
        destination = sign_up(other, "alice", "alice-pw")
        origin.create_bucket(id="b")
        origin.create_collection(id="c", bucket="b")
        for n in range(5):
            origin.create_record(id=f"r{n}", data={"n": n}, bucket="b", collection="c")
        origin.delete_record(id="r0", bucket="b", collection="c")
        replicate(
            kinto_http.Client(
                server_url=server + "/v1", auth=("alice", "alice-pw"), bucket="b", collection="c"
            ),
            kinto_http.Client(
                server_url=other + "/v1", auth=("alice", "alice-pw"), bucket="b", collection="c"
            ),
        )
        copied = destination.get_records(bucket="b", collection="c")
        assert sorted(r["n"] for r in copied) == [1, 2, 3, 4]


def test_flush_through_the_unversioned_path(server: str) -> None:
    alice = sign_up(server, "alice", "alice-pw")
    alice.create_bucket(id="b")
    kinto_http.Client(server_url=server).session.request("post", "/__flush__")
    anonymous = kinto_http.Client(server_url=server + "/v1")
    with pytest.raises(kinto_http.KintoException) as raised:
        alice.get_bucket(id="b")
    assert raised.value.response.status_code == 401  # the account went with the flush
    assert "user" not in anonymous.server_info()
