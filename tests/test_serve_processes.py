"""``notifier serve --processes N``: N app processes on one port, one PostgreSQL database.

The slow test runs two children and pins HTTP connections to each
(tests/pinned.py), so every check says which process wrote and which read:
writes seen by both, ``_since`` syncing under concurrent writes through
both, ``If-Match``/``If-None-Match`` across them, strictly increasing
timestamps, and every event in Redis exactly once, also when the two relays
share a backlog (a listener whose Redis starts late).  Then a killed child is
started again and SIGTERM stops them all.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import redis

from notifier.cli.processes import MULTIPROC_DIR, metrics_environment
from notifier.dev.redis_server import PrivateRedis, free_port
from tests.cli import NOTIFIER, ROOT, notifier, one_line_error
from tests.conftest import SECRET
from tests.helpers import wait_for
from tests.pinned import Pinned, alive, app_processes, children_of, pinned
from tests.test_serve import huge_upload_status

RECORDS = "/v1/buckets/b/collections/c/records"
PER_WRITER = 30


def write_ini(path: Path, storage: str, listeners: str = "") -> Path:
    path.write_text(f"""[app:main]
use = egg:notifier
{storage}
notifier.userid_hmac_secret = {SECRET}
notifier.relay.interval = 0.2
{listeners}
[server:main]
host = 127.0.0.1
threads = 4

[loggers]
keys = root, notifier
[handlers]
keys = console
[formatters]
keys = generic
[logger_root]
level = WARNING
handlers = console
[logger_notifier]
level = INFO
handlers =
qualname = notifier
[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic
[formatter_generic]
format = %(levelname)s [%(name)s] %(message)s
""")
    return path


def postgresql_lines(url: str) -> str:
    return (
        "notifier.storage_backend = notifier.storage.postgresql\n"
        f"notifier.storage_url = {url.replace('%', '%%')}\n"
        "notifier.storage_pool_size = 4\n"
    )


def redis_listener(name: str, url: str, listname: str) -> str:
    prefix = f"notifier.event_listeners.{name}"
    return (
        f"{prefix}.use = notifier.listeners.redis\n{prefix}.url = {url}\n"
        f"{prefix}.listname = {listname}\n{prefix}.resources = record\n"
    )


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5", "65", " "])
def test_a_bad_processes_value_is_one_line(value: str) -> None:
    line = one_line_error(notifier("serve", "app.ini", "--processes", value))
    assert line == f"notifier: --processes: expected an integer from 1 to 64 (got {value!r})"


def test_more_than_one_process_on_sqlite_is_refused_naming_the_setting(tmp_path: Path) -> None:
    ini = write_ini(tmp_path / "sqlite.ini", f"notifier.storage_url = {tmp_path}/db.sqlite")
    line = one_line_error(notifier("serve", str(ini), "--processes", "2", "--dev"))
    assert line == (
        "notifier: --processes: more than one process needs notifier.storage_backend ="
        " notifier.storage.postgresql; notifier.storage.sqlite lets one process write at a"
        " time (got 2)"
    )


def test_prometheus_gets_an_empty_directory_of_its_own_only_with_several_processes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(MULTIPROC_DIR, raising=False)
    settings = {"notifier.includes": "notifier.plugins.prometheus"}
    with ExitStack() as stack:
        assert metrics_environment(stack, settings, 1) == {}
        assert metrics_environment(stack, {}, 2) == {}
        folder = Path(metrics_environment(stack, settings, 2)[MULTIPROC_DIR])
        assert folder.is_dir() and not any(folder.iterdir())
    assert not folder.exists()
    monkeypatch.setenv(MULTIPROC_DIR, "/somewhere/of/the/operator")
    with ExitStack() as stack:
        assert metrics_environment(stack, settings, 2) == {}


def start(ini: Path, port: int, log: Path, *options: str) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:
        return subprocess.Popen(
            [NOTIFIER, "serve", str(ini), "--port", str(port), "--processes", "2", *options],
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def stopped(server: subprocess.Popen[bytes], log: Path) -> int:
    """SIGTERM the parent; its exit status once it and all its children are gone."""
    children = children_of(server.pid)
    server.send_signal(signal.SIGTERM)
    code = server.wait(timeout=60)
    wait_for(lambda: not any(alive(pid) for pid in children), timeout=20)
    assert "stopping 2 app processes" in log.read_text()
    return code


def serving(server: subprocess.Popen[bytes], log: Path, count: int = 2) -> list[int]:
    """The children's pids once ``count`` of them say they serve."""
    wait_for(lambda: log.read_text().count("serving on 127.0.0.1") >= count, timeout=60)
    return wait_for(lambda: app_processes(server.pid), timeout=10)


def events(client: redis.Redis, listname: str) -> Counter[tuple[str, int]]:
    """(record id, last_modified) of each message in the list, counted."""
    found: Counter[tuple[str, int]] = Counter()
    for raw in client.lrange(listname, 0, -1):
        new = json.loads(raw)["impacted_objects"][0]["new"]
        found[(new["id"], new["last_modified"])] += 1
    return found


def written(response: tuple[int, Any, Any]) -> tuple[str, int]:
    status, _, body = response
    assert status in (200, 201), response
    return body["data"]["id"], body["data"]["last_modified"]


def writes_seen_by_both(a: Pinned, b: Pinned) -> set[tuple[str, int]]:
    assert a.request("PUT", "/v1/buckets/b")[0] == 201
    assert b.request("PUT", "/v1/buckets/b/collections/c")[0] == 201
    done = {written(a.request("PUT", f"{RECORDS}/r1", {"data": {"by": "a"}}))}
    done.add(written(b.request("PUT", f"{RECORDS}/r2", {"data": {"by": "b"}})))
    assert b.request("GET", f"{RECORDS}/r1")[2]["data"]["by"] == "a"
    assert a.request("GET", f"{RECORDS}/r2")[2]["data"]["by"] == "b"
    for reader in (a, b):
        assert {r["id"] for r in reader.request("GET", RECORDS)[2]["data"]} == {"r1", "r2"}
    return done


def preconditions_across(a: Pinned, b: Pinned) -> set[tuple[str, int]]:
    _, headers, _ = a.request("GET", f"{RECORDS}/r1")
    first = headers["ETag"]
    done = {written(b.request("PUT", f"{RECORDS}/r1", {"data": {"v": 2}}, {"If-Match": first}))}
    status, _, body = a.request("PUT", f"{RECORDS}/r1", {"data": {"v": 3}}, {"If-Match": first})
    assert (status, body["errno"]) == (412, 114)
    _, headers, _ = b.request("GET", f"{RECORDS}/r1")
    latest = {"If-Match": headers["ETag"]}
    done.add(written(a.request("PUT", f"{RECORDS}/r1", {"data": {"v": 3}}, latest)))
    absent = {"If-None-Match": "*"}
    done.add(written(b.request("PUT", f"{RECORDS}/r3", {"data": {}}, absent)))
    assert a.request("PUT", f"{RECORDS}/r3", {"data": {}}, absent)[0] == 412
    return done


def concurrent_writes_and_sync(
    writers: list[Pinned], readers: list[Pinned]
) -> set[tuple[str, int]]:
    """Two writers (one per child) while a client syncs with ``_since`` from both children:
    each writer's timestamps increase, and the sync misses nothing."""
    results: list[list[tuple[str, int]]] = [[], []]
    seen: dict[str, int] = {}
    since = 0

    def write(index: int) -> None:
        for n in range(PER_WRITER):
            body = {"data": {"writer": index, "n": n}}
            results[index].append(written(writers[index].request("POST", RECORDS, body)))

    def sync(reader: Pinned) -> None:
        nonlocal since
        status, headers, body = reader.request("GET", f"{RECORDS}?_since={since}")
        assert status == 200
        seen.update({r["id"]: r["last_modified"] for r in body["data"]})
        since = int(headers["ETag"].strip('"'))

    threads = [threading.Thread(target=write, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    turn = 0
    while any(thread.is_alive() for thread in threads):
        sync(readers[turn % 2])
        turn += 1
    for thread in threads:
        thread.join()
    sync(readers[turn % 2])
    for stamps in results:
        assert [s for _, s in stamps] == sorted({s for _, s in stamps})
    done = {item for stamps in results for item in stamps}
    assert done <= set(seen.items())
    return done


def timestamps_strictly_increase(reader: Pinned) -> None:
    _, headers, body = reader.request("GET", f"{RECORDS}?_sort=last_modified")
    stamps = [record["last_modified"] for record in body["data"]]
    assert stamps == sorted(set(stamps))
    assert int(headers["ETag"].strip('"')) == stamps[-1]


def created_count(reader: Pinned) -> float:
    """The POSTs answered 201 on the records route, by the scraped child's metrics."""
    reader.connection.request("GET", "/v1/__metrics__")
    text = reader.connection.getresponse().read().decode()
    labels = 'method="POST",route="record-plural",status="201"'
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("notifier_http_requests_total{") and labels in line
    )


@pytest.mark.slow
def test_two_processes_on_one_port_share_one_database(
    tmp_path: Path,
    postgresql_migrated_url: str,
    redis_url: str,
    redis_client: redis.Redis,
    listname: str,
) -> None:
    late = PrivateRedis()  # not started yet: its listener's events wait in the outbox
    listeners = "notifier.includes = notifier.plugins.prometheus\n"
    listeners += "notifier.event_listeners = redis late\n"
    listeners += redis_listener("redis", redis_url, listname)
    listeners += redis_listener("late", late.url, "late")
    ini = write_ini(tmp_path / "pg.ini", postgresql_lines(postgresql_migrated_url), listeners)
    port, log = free_port(), tmp_path / "serve.log"
    server = start(ini, port, log)
    connections: list[Pinned] = []
    try:
        children = serving(server, log)
        assert len(children) == 2
        connections = pinned(port, children, per_child=2)
        a, a2, b, b2 = connections
        done = writes_seen_by_both(a, b)
        done |= preconditions_across(a, b)
        done |= concurrent_writes_and_sync([a, b], [a2, b2])
        timestamps_strictly_increase(b)
        assert huge_upload_status(port) == b"HTTP/1.1 413 Request Entity Too Large"  # waitress's
        # Either child's /v1/__metrics__ counts the creates both served (multiprocess mode).
        assert created_count(a) == created_count(b) == 2 * PER_WRITER
        # Every write's event, once, delivered by the request that wrote it.
        wait_for(lambda: sum(events(redis_client, listname).values()) >= len(done), timeout=30)
        assert events(redis_client, listname) == Counter(done)
        # The late listener's backlog, shared by both children's relays once Redis is up.
        late.start()
        with redis.Redis.from_url(late.url) as client:
            wait_for(lambda: sum(events(client, "late").values()) >= len(done), timeout=60)
            assert events(client, "late") == Counter(done)
        # A child that dies is started again; the port keeps answering.
        killed = children[0]
        for connection in connections:
            connection.close()
        os.kill(killed, signal.SIGKILL)
        wait_for(lambda: "was killed by SIGKILL; starting it again" in log.read_text(), 20)
        replaced = serving(server, log, count=3)
        assert killed not in replaced and len(replaced) == 2
        answer = Pinned(port, replaced)
        assert answer.request("GET", f"{RECORDS}/r2")[0] == 200
        answer.close()
        assert stopped(server, log) == 0
    finally:
        for connection in connections:
            connection.close()
        if server.poll() is None:
            server.kill()
            server.wait(timeout=10)
        late.close()


@pytest.mark.slow
def test_dev_mode_with_two_processes_runs_its_worker_push_and_private_redis(
    tmp_path: Path, postgresql_migrated_url: str
) -> None:
    """``--dev --processes 2``: the children share the private Redis the parent started."""
    nowhere = f"redis://127.0.0.1:{free_port()}/0"
    listeners = "notifier.event_listeners = redis stream\n"
    listeners += redis_listener("redis", nowhere, "eventqueue")
    listeners += "notifier.event_listeners.stream.use = notifier.listeners.stream\n"
    listeners += f"notifier.event_listeners.stream.url = {nowhere}\n"
    listeners += "notifier.push.port = 0\n"
    ini = write_ini(tmp_path / "dev.ini", postgresql_lines(postgresql_migrated_url), listeners)
    port, log = free_port(), tmp_path / "serve.log"
    server = start(ini, port, log, "--dev")
    try:
        children = serving(server, log)
        wait_for(lambda: "push: serving http://127.0.0.1:" in log.read_text(), timeout=30)
        wait_for(lambda: len(children_of(server.pid)) == 5, timeout=30)  # 2 apps, worker,
        # push service, private Redis
        a, b = pinned(port, children, per_child=1)
        assert a.request("PUT", "/v1/buckets/b")[0] == 201
        assert b.request("PUT", "/v1/buckets/b/collections/c")[0] == 201
        record, _ = written(a.request("POST", RECORDS, {"data": {"n": 1}}))
        a.close()
        b.close()
        wait_for(lambda: f"{record} " in log.read_text(), timeout=30)  # the example worker
        assert "uses a private one at redis://127.0.0.1:" in log.read_text()
        assert stopped(server, log) == 0
        assert "stopped after" in log.read_text()  # the worker, with the server
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=10)
