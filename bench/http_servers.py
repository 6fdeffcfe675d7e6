"""The servers the HTTP benchmarks run: notifier under each listener set, the bare ceiling,
an SMTP sink, the email worker; and records written straight into SQLite.

Everything listens on 127.0.0.1 and runs as its own process, like production:
``python -m notifier.cli.serve INI`` (waitress, threads = 4 as in
app.ini).  The log listener writes to a file through a FileHandler, so a
terminal is never the bottleneck.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from harness import BENCH, ROOT, process, python, request, wait_until_up

from notifier.dev.redis_server import free_port
from notifier.storage import transaction
from notifier.storage.sqlite import SQLiteStorage

COLLECTION = "/buckets/b/collections/c"
RECORDS = f"/v1{COLLECTION}/records"

INI = """
[app:main]
use = call:notifier:main
notifier.storage_url = {folder}/bench.sqlite
notifier.userid_hmac_secret = bench
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
keys = root, events

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
"""


def write_ini(folder: Path, listeners: str, redis_url: str, smtp_port: int = 1) -> Path:
    """An INI for ``listeners`` (space-separated names: log, redis); port is chosen here."""
    ini = folder / "bench.ini"
    ini.write_text(
        INI.format(
            folder=folder,
            listeners=listeners,
            redis_url=redis_url,
            smtp_port=smtp_port,
            port=free_port(),
        )
    )
    return ini


def ini_port(ini: Path) -> int:
    for line in ini.read_text().splitlines():
        if line.startswith("port = "):
            return int(line.split("=")[1])
    raise ValueError(f"{ini} has no port")


@contextmanager
def notifier_server(stack: ExitStack, ini: Path, cpu: int | None = None) -> Iterator[int]:
    """Serve ``ini`` (on core ``cpu`` only, if given); create bucket b and collection c;
    yield the server's pid."""
    port = ini_port(ini)
    server = stack.enter_context(process(python("-m", "notifier.cli.serve", str(ini)), cpu))
    wait_until_up(port)
    for path in ("/v1/buckets/b", f"/v1{COLLECTION}"):
        status, body = request(port, "PUT", path, "{}")
        if status >= 400:
            raise RuntimeError(f"PUT {path}: {status} {body!r}")
    yield server.pid


def bare_server(stack: ExitStack, cpu: int | None = None) -> tuple[int, int]:
    """Start the bare Pyramid ceiling (on core ``cpu`` only, if given); return (port, pid)."""
    port = free_port()
    server = stack.enter_context(
        process(python(str(BENCH / "bare_app.py"), "--port", str(port), "--threads", "4"), cpu)
    )
    wait_until_up(port, "/")
    return port, server.pid


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


def seed_records(ini: Path, count: int, start: int = 0) -> None:
    """Write ``count`` records into collection c straight through the storage layer."""
    storage = SQLiteStorage(str(ini.parent / "bench.sqlite"))
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


def middle_timestamp(ini: Path) -> int:
    """The last_modified of the median record: ``_since`` on it returns the newer half."""
    with sqlite3.connect(ini.parent / "bench.sqlite") as db:
        (total,) = db.execute("SELECT count(*) FROM objects WHERE resource = 'record'").fetchone()
        (stamp,) = db.execute(
            "SELECT last_modified FROM objects WHERE resource = 'record'"
            " ORDER BY last_modified LIMIT 1 OFFSET ?",
            (total // 2,),
        ).fetchone()
    return int(stamp)
