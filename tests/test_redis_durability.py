"""The Redis behind "none lost": the dev server's keeps an AOF, and a start warns of one
that does not (issue 14 item 5).  Each test starts a private redis-server of its own."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

import notifier
from notifier.cli.serve import dev_redis
from notifier.dev.redis_server import PrivateRedis, free_port
from notifier.queue.durability import persistence_problem
from tests.conftest import SECRET


@pytest.fixture
def volatile_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis(persistent=False).start()
    yield server
    server.close()


def client_of(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=2)


def test_a_redis_without_persistence_is_named(volatile_redis: PrivateRedis) -> None:
    client = client_of(volatile_redis.url)
    assert persistence_problem(client) == "it has no persistence at all (appendonly no, save '')"
    client.config_set("save", "60 1")
    assert persistence_problem(client) == (
        "it has no append-only file, only snapshots (save '60 1')"
    )
    client.config_set("appendonly", "yes")
    client.config_set("appendfsync", "no")
    assert persistence_problem(client) == (
        "its append-only file is synced by the OS only (appendfsync no)"
    )
    client.config_set("appendfsync", "everysec")
    assert persistence_problem(client) is None
    client.close()


def test_a_redis_that_is_down_is_left_to_the_relay() -> None:
    client = client_of(f"redis://127.0.0.1:{free_port()}/0")
    assert persistence_problem(client) is None


def test_the_start_warns_of_a_redis_without_persistence(
    volatile_redis: PrivateRedis, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = {
        "notifier.storage_url": str(tmp_path / "n.sqlite"),
        "notifier.userid_hmac_secret": SECRET,
        "notifier.relay.in_process": "false",
        "notifier.event_listeners": "queue",
        "notifier.event_listeners.queue.use": "notifier.listeners.redis",
        "notifier.event_listeners.queue.url": volatile_redis.url,
    }
    with caplog.at_level(logging.WARNING, logger="notifier.queue.durability"):
        app = notifier.main({}, **settings)
    notifier.shutdown(app.registry)
    warnings = [r.getMessage() for r in caplog.records if r.name == "notifier.queue.durability"]
    assert warnings == [
        f"listener queue: the Redis at {volatile_redis.url} loses the events it holds if it"
        " dies: it has no persistence at all (appendonly no, save ''); 'none lost' needs"
        " appendonly yes with appendfsync everysec or always (docs/deployment.md)"
    ]


def test_the_dev_servers_redis_keeps_an_append_only_file(tmp_path: Path) -> None:
    server = dev_redis(str(tmp_path)).start()
    try:
        client = client_of(server.url)
        assert client.config_get("appendonly") == {"appendonly": "yes"}
        assert client.config_get("appendfsync") == {"appendfsync": "everysec"}
        assert client.config_get("dir")["dir"] == str(tmp_path / "var" / "redis")
        assert persistence_problem(client) is None
        client.rpush("kept", "event")
        client.close()
        server.stop()
        server.start()
        client = client_of(server.url)
        assert client.lrange("kept", 0, -1) == [b"event"]
        client.close()
    finally:
        server.close()
    assert (tmp_path / "var" / "redis").is_dir()
