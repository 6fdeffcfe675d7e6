"""Shared fixtures: real services, started here when the machine has none."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
import redis

from notifier.redis_server import PrivateRedis, redis_answers


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


def postgresql_answers(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=2):
            return True
    except psycopg.OperationalError:
        return False


@pytest.fixture(scope="session")
def postgresql_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL server: the configured one if it answers, else a private one.

    The private one comes from the ``pgserver`` wheel (in the ``test`` extra).
    No server at all fails the tests that need one: a missing service is
    never hidden behind a skip.
    """
    url = os.environ.get(
        "NOTIFIER_TEST_POSTGRESQL_URL", "postgresql://postgres@127.0.0.1:5432/test"
    )
    if postgresql_answers(url):
        yield url
        return
    try:
        import pgserver
    except ImportError:
        pytest.fail(
            f"no PostgreSQL answers at {url} and the 'pgserver' package is missing:"
            " start PostgreSQL, set NOTIFIER_TEST_POSTGRESQL_URL, or pip install -e '.[test]'",
            pytrace=False,
        )
    server = pgserver.get_server(tmp_path_factory.mktemp("postgresql"), cleanup_mode="stop")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()


def with_search_path(url: str, schema: str) -> str:
    """``url`` whose connections put their tables in ``schema``."""
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


@pytest.fixture
def postgresql_schema_url(postgresql_url: str) -> Iterator[str]:
    """A URL on an empty schema of this test's own, dropped afterwards.

    Others run tests on the same server at the same time: nothing is shared.
    """
    schema = f"notifier_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgresql_url, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
    yield with_search_path(postgresql_url, schema)
    with psycopg.connect(postgresql_url, autocommit=True) as connection:
        connection.execute(f"DROP SCHEMA {schema} CASCADE")
