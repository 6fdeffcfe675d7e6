"""The kept push connection, against a real Redis."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from notifier.queue import push_connection as redis_push
from notifier.queue.connection import connect
from notifier.queue.push_connection import PushConnection


@pytest.fixture
def pushes(redis_url: str) -> Iterator[PushConnection]:
    client = connect(redis_url, socket_timeout=2.0)
    kept = PushConnection(client)
    yield kept
    kept.close()
    client.close()


def push_client_ids(redis_client: redis.Redis, name: str) -> list[int]:
    return [int(each["id"]) for each in redis_client.client_list() if each["name"] == name]


def test_pushes_share_one_connection(pushes, redis_client, listname):
    pushes.command("CLIENT", "SETNAME", f"kept-{listname}")  # unique to this test
    for n in range(3):
        assert pushes.command("RPUSH", listname, f"m{n}") == n + 1
    assert len(push_client_ids(redis_client, f"kept-{listname}")) == 1
    assert redis_client.lrange(listname, 0, -1) == [b"m0", b"m1", b"m2"]


def test_a_connection_closed_by_redis_is_replaced_at_once(pushes, redis_client, listname):
    pushes.command("CLIENT", "SETNAME", f"kept-{listname}")
    [client_id] = push_client_ids(redis_client, f"kept-{listname}")
    redis_client.client_kill_filter(_id=client_id)  # as when Redis restarts
    assert pushes.command("RPUSH", listname, "after") == 1
    assert redis_client.lrange(listname, 0, -1) == [b"after"]


def test_a_busy_kept_connection_leaves_the_push_to_the_pool(pushes, redis_client, listname):
    with pushes._lock:  # another thread is pushing
        assert pushes.command("RPUSH", listname, "through the pool") == 1
    assert redis_client.lrange(listname, 0, -1) == [b"through the pool"]


def test_an_error_reply_leaves_the_connection_in_step(pushes, redis_client, listname):
    redis_client.set(listname + ":string", "x")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        pushes.command("RPUSH", listname + ":string", "m")
    assert pushes.command("RPUSH", listname, "next") == 1
    assert pushes.command("LLEN", listname) == 1
    redis_client.delete(listname + ":string")


def test_a_forked_child_pushes_on_a_connection_of_its_own(
    pushes, redis_client, listname, monkeypatch
):
    pushes.command("CLIENT", "SETNAME", f"parent-{listname}")
    # A real fork of this many-threaded test process could deadlock the child
    # on a lock another thread held: the child is told apart by its pid alone.
    monkeypatch.setattr(redis_push.os, "getpid", lambda: -1)
    assert pushes.command("CLIENT", "GETNAME") is None
    pushes.command("RPUSH", listname, "child")
    assert redis_client.lrange(listname, 0, -1) == [b"child"]
