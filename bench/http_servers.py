"""The servers the HTTP benchmarks run: notifier under each listener set, the bare ceiling,
an SMTP sink, the email worker; and records written straight into SQLite.

Everything listens on 127.0.0.1 and runs as its own process, like production:
``python -m notifier.cli.serve INI`` (waitress, threads = 4 as in
app.ini).  The log listener writes to a file through a FileHandler, so a
terminal is never the bottleneck.
"""

from __future__ import annotations

import sqlite3
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from harness import BENCH, ROOT, process, python, request, wait_until_up

from notifier.dev.redis_server import free_port
from notifier.storage import Storage, transaction
from notifier.storage.postgresql import PostgreSQLStorage, migrate_from_settings
from notifier.storage.sqlite import SQLiteStorage

COLLECTION = "/buckets/b/collections/c"
RECORDS = f"/v1{COLLECTION}/records"

INI = """
[app:main]
use = call:notifier:main
{storage}
notifier.userid_hmac_secret = bench-secret-of-at-least-32-characters
notifier.includes = {includes}
notifier.event_listeners = {listeners}
notifier.event_listeners.log.use = notifier.listeners.log
notifier.event_listeners.redis.use = notifier.listeners.redis
notifier.event_listeners.redis.url = {redis_url}
notifier.event_listeners.redis.listname = eventqueue
notifier.event_listeners.redis.resources = record
notifier.event_listeners.send_email.use = notifier.listeners.email
notifier.event_listeners.send_email.server = 127.0.0.1:{smtp_port}
notifier.event_listeners.send_email.from = notifier@example.com
notifier.event_listeners.send_email.recipients = ops@example.com

[server:main]
host = 127.0.0.1
port = {port}
threads = 4

[loggers]
keys = root, events{quiet_key}

[handlers]
keys = console, events

[formatters]
keys = generic

[logger_root]
level = WARNING
handlers = console

[logger_events]
level = INFO
handlers = events
qualname = notifier.delivery.events
propagate = 0

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[handler_events]
class = FileHandler
args = ('{folder}/events.log', 'a')
level = NOTSET
formatter = generic

[formatter_generic]
format = %(asctime)s %(levelname)-5.5s [%(name)s] %(message)s
{quiet}"""

#: Added with ``quiet``: waitress's "Task queue depth" warnings are not logged.
QUIET_QUEUE_LOG = """
[logger_waitress_queue]
level = ERROR
handlers =
qualname = waitress.queue
"""


@dataclass(frozen=True)
class Backend:
    """Where a bench server keeps its data: a SQLite file in its folder, or a
    PostgreSQL schema of its own."""

    postgresql_url: str | None = None

    def ini_lines(self, folder: Path) -> str:
        if self.postgresql_url is None:
            return f"notifier.storage_url = {folder}/bench.sqlite"
        return (
            "notifier.storage_backend = notifier.storage.postgresql\n"
            # The INI's values are interpolated: a % of the URL is written %%.
            f"notifier.storage_url = {self.postgresql_url.replace('%', '%%')}"
        )

    def storage(self, folder: Path) -> Storage:
        if self.postgresql_url is None:
            return SQLiteStorage(str(folder / "bench.sqlite"))
        return PostgreSQLStorage(self.postgresql_url, pool_size=1)


SQLITE = Backend()


@contextmanager
def postgresql_schema(url: str) -> Iterator[str]:
    """An empty schema of this run's own on ``url``'s database, dropped afterwards;
    yields a URL whose connections use it."""
    schema = f"notifier_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
    try:
        separator = "&" if "?" in url else "?"
        yield f"{url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA {schema} CASCADE")


@contextmanager
def postgresql_backend(url: str) -> Iterator[Backend]:
    """notifier's tables, migrated, in a schema of their own."""
    with postgresql_schema(url) as schema_url:
        migrate_from_settings({"notifier.storage_url": schema_url})
        yield Backend(schema_url)


def write_ini(
    folder: Path,
    listeners: str,
    redis_url: str,
    smtp_port: int = 1,
    backend: Backend = SQLITE,
    quiet: bool = False,
    includes: str = "",
) -> Path:
    """An INI for ``listeners`` (space-separated names: log, redis); port is chosen here.

    ``quiet`` leaves waitress's queue-depth warnings out of the log; ``includes``
    is ``notifier.includes`` (none: the bench measures the core).
    """
    ini = folder / "bench.ini"
    ini.write_text(
        INI.format(
            folder=folder,
            storage=backend.ini_lines(folder),
            listeners=listeners,
            redis_url=redis_url,
            smtp_port=smtp_port,
            includes=includes,
            port=free_port(),
            quiet_key=", waitress_queue" if quiet else "",
            quiet=QUIET_QUEUE_LOG if quiet else "",
        )
    )
    return ini


def ini_port(ini: Path) -> int:
    for line in ini.read_text().splitlines():
        if line.startswith("port = "):
            return int(line.split("=")[1])
    raise ValueError(f"{ini} has no port")


@contextmanager
def notifier_server(
    stack: ExitStack,
    ini: Path,
    cpu: int | None = None,
    root: Path = ROOT,
    options: Sequence[str] = (),
    **env: str,
) -> Iterator[int]:
    """Serve ``ini`` from the source tree ``root`` (on core ``cpu`` only, if given), with
    ``notifier serve``'s ``options`` and ``env`` added to its environment; create bucket b
    and collection c; yield the server's pid."""
    port = ini_port(ini)
    command = python("-m", "notifier.cli.serve", str(ini), *options)
    server = stack.enter_context(process(command, cpu, root, **env))
    wait_until_up(port)
    for path in ("/v1/buckets/b", f"/v1{COLLECTION}"):
        status, body = request(port, "PUT", path, "{}")
        if status >= 400:
            raise RuntimeError(f"PUT {path}: {status} {body!r}")
    yield server.pid


def bare_server(stack: ExitStack, cpu: int | None = None, *options: str) -> tuple[int, int]:
    """Start the bare Pyramid ceiling (on core ``cpu`` only, if given); return (port, pid).

    ``options`` go to bench/bare_app.py (the durable ceilings' storage and Redis).
    """
    port = free_port()
    command = python(str(BENCH / "bare_app.py"), "--port", str(port), "--threads", "4", *options)
    server = stack.enter_context(process(command, cpu))
    wait_until_up(port, "/")
    return port, server.pid


def durable_server(
    stack: ExitStack, backend: str, redis_url: str, postgresql_url: str, cpu: int | None = None
) -> tuple[int, int]:
    """The durable ceiling on ``backend`` (sqlite or postgresql): the bare view plus one
    committed insert and one RPUSH per create; return (port, pid)."""
    if backend == "sqlite":
        folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="notifier-ceiling-"))
        store = ["--sqlite", f"{folder}/ceiling.sqlite"]
    else:
        store = ["--postgresql", stack.enter_context(postgresql_schema(postgresql_url))]
    return bare_server(stack, cpu, *store, "--redis", redis_url)


def smtp_sink(stack: ExitStack) -> int:
    """An aiosmtpd server on loopback that accepts and drops every message; its port."""
    port = free_port()
    stack.enter_context(
        process(
            python(
                "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}", "-c", "aiosmtpd.handlers.Sink"
            )
        )
    )
    return port


def email_worker(stack: ExitStack, ini: Path) -> int:
    """workers/send_email.py on the redis listener's queue; its pid."""
    command = python(str(ROOT / "workers" / "send_email.py"), str(ini))
    return stack.enter_context(process(command)).pid


def seed_records(ini: Path, count: int, start: int = 0, backend: Backend = SQLITE) -> None:
    """Write ``count`` records into collection c: through the storage layer on SQLite,
    in one statement on PostgreSQL (where one create per round trip takes minutes)."""
    if backend.postgresql_url is not None:
        seed_postgresql(backend.postgresql_url, count, start)
        return
    storage = backend.storage(ini.parent)
    try:
        for first in range(start, start + count, 1000):
            with transaction(storage) as session:
                for number in range(first, min(start + count, first + 1000)):
                    session.create(
                        "record",
                        COLLECTION,
                        {"id": f"seed-{number:06d}", "title": "hello", "n": number},
                    )
    finally:
        storage.close()


def seed_postgresql(url: str, count: int, start: int) -> None:
    """The rows ``seed_records`` writes, straight into notifier's tables: each record
    stamped one millisecond after the list's timestamp and the one before it."""
    with psycopg.connect(url) as pg:
        pg.execute(
            "INSERT INTO timestamps (parent_id, resource, last_modified)"
            " VALUES (%s, 'record', (extract(epoch FROM clock_timestamp()) * 1000)::bigint)"
            " ON CONFLICT (parent_id, resource) DO NOTHING",
            (COLLECTION,),
        )
        pg.execute(
            "INSERT INTO objects (parent_id, resource, id, last_modified, deleted, data)"
            " SELECT %s, 'record', 'seed-' || lpad(n::text, 6, '0'), stamp.last_modified + n"
            " - %s::int + 1, 0, jsonb_build_object('title', 'hello', 'n', n)"
            " FROM generate_series(%s::int, %s::int) AS n,"
            " (SELECT last_modified FROM timestamps WHERE parent_id = %s"
            " AND resource = 'record') AS stamp",
            (COLLECTION, start, start, start + count - 1, COLLECTION),
        )
        pg.execute(
            "UPDATE timestamps SET last_modified = (SELECT max(last_modified) FROM objects"
            " WHERE parent_id = %s AND resource = 'record')"
            " WHERE parent_id = %s AND resource = 'record'",
            (COLLECTION, COLLECTION),
        )


def middle_timestamp(ini: Path, backend: Backend = SQLITE) -> int:
    """The last_modified of the median record: ``_since`` on it returns the newer half."""
    count = "SELECT count(*) FROM objects WHERE resource = 'record'"
    median = (
        "SELECT last_modified FROM objects WHERE resource = 'record'"
        " ORDER BY last_modified LIMIT 1 OFFSET {}"
    )
    if backend.postgresql_url is not None:
        with psycopg.connect(backend.postgresql_url) as pg:
            (total,) = pg.execute(count).fetchone() or (0,)
            (stamp,) = pg.execute(median.format("%s"), (total // 2,)).fetchone() or (0,)
        return int(stamp)
    with sqlite3.connect(ini.parent / "bench.sqlite") as db:
        (total,) = db.execute(count).fetchone()
        (stamp,) = db.execute(median.format("?"), (total // 2,)).fetchone()
    return int(stamp)
