"""Shared fixtures: real services, started here when the machine has none."""

from __future__ import annotations

import base64
import os
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
import waitress
import webtest

import notifier
from notifier.dev.redis_server import PrivateRedis, redis_answers
from notifier.http.auth import hmac_digest
from notifier.storage.postgresql import migrate_from_settings
from tests.helpers import OPEN_APPS, close_app, open_app
from tests.smtp import SmtpServer

# ---- nothing left behind -------------------------------------------------------


def leftover_threads(before: set[threading.Thread]) -> list[str]:
    """Threads started since ``before`` that would outlive the tests: non-daemon, or ours."""
    return sorted(
        f"thread {thread.name!r}{'' if thread.daemon else ' (not daemon)'}"
        for thread in threading.enumerate()
        if thread not in before and (not thread.daemon or thread.name.startswith("notifier"))
    )


def leftover_children() -> list[str]:
    """This process's children that still run (zombies aside), from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # it ended while we looked
        name, _, rest = text.rpartition(")")
        state, ppid = rest.split()[:2]
        if int(ppid) == os.getpid() and state != "Z":
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            found.append(
                f"process {stat.parent.name} ({cmdline.strip() or name[name.find('(') + 1 :]})"
            )
    return sorted(found)


@pytest.fixture(scope="session", autouse=True)
def nothing_left_running() -> Iterator[None]:
    """Fail the run when the tests leave threads or child processes behind, naming them.

    Threads told to stop (a relay, a checkpoint thread) get a few seconds to end.
    """
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 10
    while (leftover_threads(before) or leftover_children()) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = leftover_threads(before) + leftover_children()
    if left:
        pytest.fail("still running after the tests: " + "; ".join(left), pytrace=False)


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
        server.close()


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


# ---- the HTTP API --------------------------------------------------------------


def basic_auth(user: str, password: str) -> dict[str, str]:
    """The Authorization header of Basic credentials."""
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


ALICE = basic_auth("token", "alice-token")
BOB = basic_auth("token", "bob-token")
SECRET = "test-secret-that-keys-the-userids"


def userid_of(user: str, password: str) -> str:
    """The userid the server gives to these Basic credentials."""
    return "basicauth:" + hmac_digest(SECRET, f"{user}:{password}")


ALICE_ID = userid_of("token", "alice-token")
BOB_ID = userid_of("token", "bob-token")


@pytest.fixture
def settings(tmp_path: Path) -> dict[str, Any]:
    """Settings for an app on a fresh SQLite file of this test's own."""
    return {
        "notifier.storage_url": str(tmp_path / "notifier.sqlite"),
        "notifier.userid_hmac_secret": SECRET,
    }


@pytest.fixture(autouse=True)
def _apps_shut_down() -> Iterator[None]:
    yield
    while OPEN_APPS:
        close_app(OPEN_APPS[-1])


@pytest.fixture
def app(settings: dict[str, Any]) -> Iterator[webtest.TestApp]:
    app = open_app(**settings)
    yield app
    close_app(app)


@contextmanager
def serving(app: Any, threads: int = 2) -> Iterator[str]:
    """Serve a WSGI app with waitress on a free 127.0.0.1 port; yield its base URL."""
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=threads)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        # Closing everything in the server's map, from its own loop, ends server.run().
        try:
            server.trigger.pull_trigger(lambda: close_map(server))
        except OSError:
            # Under heavy load the suite has seen the trigger's pipe already gone
            # (EBADF; cause not found): close from here, and the loop ends on an
            # empty map.
            close_map(server)
        thread.join(timeout=5)
        server.task_dispatcher.shutdown()


def close_map(server: Any) -> None:
    """Close every channel of a waitress server, the listening socket and the trigger."""
    for each in list(server._map.values()):
        with suppress(OSError):
            each.close()


@pytest.fixture
def live_server(settings: dict[str, Any]) -> Iterator[str]:
    """The real app served by waitress on a free 127.0.0.1 port; yields its base URL."""
    router = notifier.main({}, **settings)
    try:
        with serving(router) as url:
            yield url
    finally:
        notifier.shutdown(router.registry)


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


@pytest.fixture
def postgresql_migrated_url(postgresql_schema_url: str) -> str:
    """A URL on a schema of this test's own, migrated to the latest version."""
    migrate_from_settings({"notifier.storage_url": postgresql_schema_url})
    return postgresql_schema_url


@pytest.fixture(params=["sqlite", "postgresql"])
def backend_settings(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """The storage settings of an app, on each backend in turn (an empty database)."""
    if request.param == "sqlite":
        return {"notifier.storage_url": str(tmp_path / "notifier.sqlite")}
    return {
        "notifier.storage_backend": "notifier.storage.postgresql",
        "notifier.storage_url": request.getfixturevalue("postgresql_migrated_url"),
        "notifier.storage_pool_size": "4",
    }
