"""Scale-out on one machine: two servers, two relays, two workers on PostgreSQL and Redis.

Every write that got a 2xx has its event handled by a worker, also when a
server is SIGKILLed under load: the relays take over its leased outbox rows
once the (short) lease runs out.  A listener that pauses 20 ms per event
(``tests.listeners.pause``, before the Redis one) is the injected fault that
makes the kill land between commits and their deliveries.  Duplicates are
allowed (at-least-once) and printed.  Bounded: two thousand requests, every
wait has a deadline, every process is killed at the end.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
import redis

from notifier.dev.redis_server import free_port
from notifier.queue.protocol import delayed_count, depth, inflight
from tests.conftest import ALICE, SECRET
from tests.helpers import wait_for

#: A scale-out run: several servers, relays and workers; minutes on a busy machine.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).parent.parent
RECORDS = "/v1/buckets/b/collections/c/records"
BEFORE_KILL, AROUND_KILL = 1200, 900
DEADLINE = 60.0


def write_ini(path: Path, url: str, redis_url: str, listname: str) -> Path:
    path.write_text(f"""[app:main]
use = egg:notifier
notifier.storage_backend = notifier.storage.postgresql
notifier.storage_url = {url.replace("%", "%%")}
notifier.storage_pool_size = 10
notifier.userid_hmac_secret = {SECRET}
notifier.relay.in_process = false
notifier.relay.interval = 0.2
notifier.outbox.lease = 2
notifier.event_listeners = pause redis
notifier.event_listeners.pause.use = tests.listeners.pause
notifier.event_listeners.pause.seconds = 0.02
notifier.event_listeners.pause.resources = record
notifier.event_listeners.redis.use = notifier.listeners.redis
notifier.event_listeners.redis.url = {redis_url}
notifier.event_listeners.redis.listname = {listname}
notifier.event_listeners.redis.resources = record
notifier.event_listeners.redis.pool_timeout = 0.5
notifier.event_listeners.redis.socket_timeout = 1

[server:main]
use = egg:waitress#main
host = 127.0.0.1
threads = 8
""")
    return path


class Processes:
    """Child processes of the test, all killed at the end whatever happens."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.running: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "notifier.cli", *args],
            env=self.env,
            stdout=log,
            stderr=log,
            cwd=ROOT,
        )
        self.running[name] = process
        return process

    def kill_all(self) -> None:
        for process in self.running.values():
            process.kill()
        for process in self.running.values():
            process.wait(timeout=10)


@pytest.fixture
def processes(tmp_path: Path, redis_url: str, listname: str) -> Iterator[Processes]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "NOTIFIER_TEST_SEEN_URL": redis_url,
        "NOTIFIER_TEST_SEEN_LIST": f"{listname}:seen",
    }
    children = Processes(env, tmp_path)
    try:
        yield children
    finally:
        children.kill_all()


def request(port: int, method: str, path: str, body: dict[str, object]) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers = {**ALICE, "Content-Type": "application/json"}
        connection.request(method, path, json.dumps(body), headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


def wait_until(predicate: Callable[[], bool], what: str, timeout: float = DEADLINE) -> None:
    try:
        wait_for(predicate, timeout, step=0.1)
    except AssertionError:
        raise AssertionError(f"timed out waiting for {what}") from None


def answers(port: int) -> bool:
    try:
        return request(port, "GET", "/v1/__lbheartbeat__", {})[0] == 200
    except OSError:
        return False


def create(port: int, n: int) -> str | None:
    """A record's id when the server said 2xx; None when the request failed."""
    try:
        status, body = request(port, "POST", RECORDS, {"data": {"n": n}})
    except (OSError, http.client.HTTPException):
        return None
    return str(body["data"]["id"]) if 200 <= status < 300 else None


def creates(ports: list[int], count: int, start: int, on_done: Callable[[], None]) -> list[str]:
    """``count`` concurrent creates, alternating servers, 16 at a time; the 2xx ids."""

    def one(n: int) -> str | None:
        record = create(ports[n % len(ports)], n)
        on_done()
        return record

    with ThreadPoolExecutor(16) as pool:
        return [r for r in pool.map(one, range(start, start + count)) if r is not None]


def committed_records(url: str) -> set[str]:
    with psycopg.connect(url) as connection:
        rows = connection.execute(
            "SELECT id FROM objects WHERE resource = 'record' AND deleted = 0"
        ).fetchall()
    return {row[0] for row in rows}


def backlog(url: str) -> int:
    with psycopg.connect(url) as connection:
        row = connection.execute("SELECT count(*) FROM outbox").fetchone()
    return int(row[0]) if row else 0


def relayed(log: Path) -> int:
    """How many events a relay process says it delivered to the Redis listener."""
    pattern = re.compile(r"relay delivered (\d+) event\(s\) to listener redis")
    return sum(int(match[1]) for match in pattern.finditer(log.read_text()))


def test_two_servers_two_relays_two_workers_lose_no_event(
    postgresql_migrated_url: str,
    redis_url: str,
    redis_client: redis.Redis,
    listname: str,
    processes: Processes,
    tmp_path: Path,
) -> None:
    started = time.monotonic()
    url = postgresql_migrated_url
    ini = str(write_ini(tmp_path / "scale.ini", url, redis_url, listname))
    ports = [free_port(), free_port()]
    servers = [
        processes.start(f"server{i}", "serve", ini, "--port", str(port))
        for i, port in enumerate(ports)
    ]
    for i in range(2):
        processes.start(f"relay{i}", "outbox", "relay", ini)
        processes.start(f"worker{i}", "worker", ini, "--handler", "tests.scale_handlers:handle",
                        "--listener", "redis", "--batch-size", "20")  # fmt: skip
    for port in ports:
        wait_until(lambda port=port: answers(port), f"the server on port {port}", 30)
    assert request(ports[0], "PUT", "/v1/buckets/b", {})[0] in (200, 201)
    assert request(ports[1], "PUT", "/v1/buckets/b/collections/c", {})[0] in (200, 201)

    ok = creates(ports, BEFORE_KILL, 0, lambda: None)
    assert len(ok) == BEFORE_KILL, "no request fails while both servers run"

    done = Counter[str]()
    killed = threading.Event()

    def kill_server_under_load() -> None:
        done["n"] += 1
        if done["n"] == AROUND_KILL // 3 and not killed.is_set():
            killed.set()
            servers[0].send_signal(signal.SIGKILL)

    ok += creates(ports, AROUND_KILL, BEFORE_KILL, kill_server_under_load)
    assert killed.is_set()
    loaded = time.monotonic()

    seen_list = f"{listname}:seen"

    def seen() -> Counter[str]:
        return Counter(item.split()[0].decode() for item in redis_client.lrange(seen_list, 0, -1))

    committed = committed_records(url)

    def settled() -> bool:
        """Every event handled, and nothing left that could still land twice:
        no outbox entry, nothing queued, delayed or claimed by a worker."""
        return (
            backlog(url) == 0
            and committed <= set(seen())
            and depth(redis_client, listname) == 0
            and delayed_count(redis_client, listname) == 0
            and not any(inflight(redis_client, listname).values())
        )

    wait_until(settled, "every event handled")
    events = seen()
    missing_2xx = set(ok) - set(events)
    missing_committed = committed - set(events)
    duplicates = sum(count - 1 for count in events.values())
    by_relays = sum(relayed(tmp_path / f"relay{i}.log") for i in range(2))
    print(
        f"\nscale-out: {len(ok)} writes got a 2xx ({BEFORE_KILL + AROUND_KILL - len(ok)} failed"
        f" around the SIGKILL), {len(committed)} records committed, {sum(events.values())}"
        f" events handled, {duplicates} duplicates, {len(missing_2xx)} missing;"
        f" {by_relays} delivered by the relays;"
        f" load {loaded - started:.1f}s, drained {time.monotonic() - loaded:.1f}s after"
    )
    assert missing_2xx == set() and missing_committed == set()
    assert set(ok) <= committed
