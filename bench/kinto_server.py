"""Kinto 26 with the kinto-redis listener, for the benchmarks: its venv, its INI, its server.

The venv is made on first use under ``~/.cache/notifier-bench/`` (not a
dependency of notifier: a separate interpreter, so nothing of Kinto's can
leak into notifier's measurements), with the versions pinned below.  The
server is ``pserve`` on the same waitress settings as notifier (threads = 4),
Basic auth as the benchmark user, every write pushed by kinto-redis to a
Redis list, on the memory backend or on PostgreSQL: a database of its own,
made with ``kinto migrate`` and dropped afterwards (Kinto looks for its
tables in every schema of a database, and finds notifier's).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import psycopg
from harness import process, request, wait_until_up

from notifier.dev.redis_server import free_port

KINTO = ("kinto[postgresql]==26.5.0", "kinto-redis==2.1.0")
VENV = Path.home() / ".cache" / "notifier-bench" / "kinto-26"
COLLECTION = "/buckets/b/collections/c"

INI = """
[app:main]
use = egg:kinto
kinto.userid_hmac_secret = bench
multiauth.policies = basicauth
kinto.bucket_create_principals = system.Authenticated
kinto.storage_backend = kinto.core.storage.{backend}
kinto.storage_url = {url}
kinto.permission_backend = kinto.core.permission.{backend}
kinto.permission_url = {url}
kinto.cache_backend = kinto.core.cache.memory
kinto.event_listeners = redis
kinto.event_listeners.redis.use = kinto_redis.listeners
kinto.event_listeners.redis.url = {redis_url}
kinto.event_listeners.redis.pool_size = 5
kinto.event_listeners.redis.listname = kinto:events
kinto.event_listeners.redis.resources = record

[server:main]
use = egg:waitress#main
host = 127.0.0.1
port = {port}
threads = 4

[loggers]
keys = root

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARNING
handlers = console

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(asctime)s %(levelname)-5.5s [%(name)s] %(message)s
"""


def kinto_venv() -> Path:
    """The venv with Kinto 26 and kinto-redis, made (a minute or two) when missing."""
    python = VENV / "bin" / "python"
    if not (VENV / "bin" / "pserve").exists():
        print(f"bench: installing {' '.join(KINTO)} into {VENV} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *KINTO], check=True)
    return VENV


@contextmanager
def postgresql_database(url: str) -> Iterator[str]:
    """An empty database of this run's own on ``url``'s server, dropped afterwards;
    yields its URL."""
    name = f"notifier_bench_kinto_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield url.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


@contextmanager
def kinto_server(
    stack: ExitStack, redis_url: str, postgresql_url: str | None = None, cpu: int | None = None
) -> Iterator[tuple[int, int]]:
    """Serve Kinto on the memory backend, or on a database of its own on the server of
    ``postgresql_url``; create bucket b and collection c; yield (port, pid)."""
    venv = kinto_venv()
    folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kinto-bench-")))
    port = free_port()
    backend, url = "memory", ""
    if postgresql_url:
        backend, url = "postgresql", stack.enter_context(postgresql_database(postgresql_url))
    ini = folder / "kinto.ini"
    ini.write_text(
        INI.format(backend=backend, url=url.replace("%", "%%"), redis_url=redis_url, port=port)
    )
    if postgresql_url:
        subprocess.run(
            [str(venv / "bin" / "kinto"), "migrate", "--ini", str(ini)],
            check=True,
            capture_output=True,
        )
    server = stack.enter_context(process([str(venv / "bin" / "pserve"), str(ini)], cpu, folder))
    wait_until_up(port, "/v1/__heartbeat__")
    for path in ("/v1/buckets/b", f"/v1{COLLECTION}"):
        status, body = request(port, "PUT", path, '{"data": {}}')
        if status >= 400:
            raise RuntimeError(f"Kinto PUT {path}: {status} {body!r}")
    yield port, server.pid
