"""Shared fixtures: real services, started here when the machine has none."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import redis

from notifier.redis_server import PrivateRedis, redis_answers
from tests.smtp import SmtpServer


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A Redis server: the configured one if it answers, else a private one."""
    url = os.environ.get("NOTIFIER_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    if redis_answers(url):
        yield url
        return
    server = PrivateRedis().start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url, socket_timeout=5)
    yield client
    client.close()


@pytest.fixture
def listname(redis_client: redis.Redis) -> Iterator[str]:
    """A queue name of this test's own, so tests can share one Redis server."""
    name = f"test-{uuid.uuid4().hex[:12]}"
    yield name
    keys = list(redis_client.scan_iter(f"{name}*"))
    if keys:
        redis_client.delete(*keys)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that stores what it receives."""
    server = SmtpServer().start()
    yield server
    server.stop()
