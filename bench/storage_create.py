"""Record creates over HTTP: PostgreSQL versus SQLite, with the Redis listener on.  Prints JSON.

    python bench/storage_create.py [--requests 1500] [--runs 3] [--concurrency 16]
        [--postgresql-url postgresql://...] [--redis-url redis://...]

For each backend a fresh database (SQLite file; PostgreSQL schema, migrated
and dropped afterwards) is served by ``python -m notifier.cli.serve`` (waitress,
16 threads) in a process of its own.  ``--concurrency`` client threads, each
on one keep-alive connection, POST small JSON records with Basic auth into
one collection; the Redis listener pushes every event to a list of the
benchmark's own, emptied between runs.  Reported per backend: median, min and
max over the runs of requests/s and of the p50 and p99 latency (ms).

Bounded: every run stops at --max-seconds, and SIGALRM ends the whole script.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from base64 import b64encode
from pathlib import Path
from typing import Any

import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from notifier.dev.redis_server import free_port  # noqa: E402
from notifier.storage.postgresql import migrate_from_settings  # noqa: E402

AUTH = {"Authorization": "Basic " + b64encode(b"bench:bench-password").decode()}
HEADERS = {**AUTH, "Content-Type": "application/json"}
RECORDS = "/v1/buckets/bench/collections/c/records"
BODY = json.dumps({"data": {"title": "a small record", "n": 1, "tags": ["x", "y"]}})


def write_ini(directory: Path, storage: dict[str, str], redis_url: str, listname: str) -> Path:
    lines = [f"{key} = {value.replace('%', '%%')}" for key, value in storage.items()]
    ini = directory / "bench.ini"
    ini.write_text(
        "[app:main]\nuse = egg:notifier\n" + "\n".join(lines) + "\n"
        "notifier.userid_hmac_secret = bench-secret-of-at-least-32-characters\n"
        "notifier.relay.in_process = false\n"
        "notifier.event_listeners = redis\n"
        "notifier.event_listeners.redis.use = notifier.listeners.redis\n"
        f"notifier.event_listeners.redis.url = {redis_url}\n"
        f"notifier.event_listeners.redis.listname = {listname}\n"
        "notifier.event_listeners.redis.pool_size = 16\n"
        "\n[server:main]\nuse = egg:waitress#main\nhost = 127.0.0.1\nthreads = 16\n"
    )
    return ini


def request(connection: http.client.HTTPConnection, method: str, path: str, body: str) -> int:
    connection.request(method, path, body, HEADERS)
    response = connection.getresponse()
    response.read()
    return response.status


def wait_for(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            if request(connection, "GET", "/v1/__lbheartbeat__", "") == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"the server on port {port} did not answer in {timeout:g}s")


def one_run(port: int, requests: int, concurrency: int, max_seconds: float) -> dict[str, float]:
    """``requests`` creates from ``concurrency`` threads; requests/s, p50 and p99 in ms."""
    latencies: list[float] = []
    errors: list[int] = []
    counter = iter(range(requests))
    lock = threading.Lock()
    deadline = time.monotonic() + max_seconds

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < deadline:
            with lock:
                if next(counter, None) is None:
                    break
            started = time.perf_counter()
            status = request(connection, "POST", RECORDS, BODY)
            latencies.append(time.perf_counter() - started)
            if status != 201:
                errors.append(status)
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise SystemExit(f"{len(errors)} requests failed, e.g. HTTP {errors[0]}")
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "requests": len(latencies),
        "requests_per_second": round(len(latencies) / elapsed, 1),
        "p50_ms": round(cuts[49] * 1000, 2),
        "p99_ms": round(cuts[98] * 1000, 2),
    }


def summary(runs: list[dict[str, float]]) -> dict[str, Any]:
    keys = ("requests_per_second", "p50_ms", "p99_ms")
    return {
        key: {
            "median": statistics.median(run[key] for run in runs),
            "min": min(run[key] for run in runs),
            "max": max(run[key] for run in runs),
        }
        for key in keys
    } | {"runs": runs}


def bench_backend(storage: dict[str, str], args: argparse.Namespace, work: Path) -> dict[str, Any]:
    listname = f"bench-{uuid.uuid4().hex[:12]}"
    client = redis.Redis.from_url(args.redis_url)
    ini = write_ini(work, storage, args.redis_url, listname)
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen(
        [sys.executable, "-m", "notifier.cli.serve", str(ini), "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(port)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        request(connection, "PUT", "/v1/buckets/bench", "{}")
        request(connection, "PUT", "/v1/buckets/bench/collections/c", "{}")
        one_run(port, 200, args.concurrency, args.max_seconds)  # warm up
        runs = []
        for _ in range(args.runs):
            client.delete(listname)
            runs.append(one_run(port, args.requests, args.concurrency, args.max_seconds))
        pushed = client.llen(listname)
        if pushed != runs[-1]["requests"]:
            raise SystemExit(f"{pushed} events pushed for {runs[-1]['requests']} creates")
        return summary(runs)
    finally:
        server.kill()
        server.wait(timeout=10)
        client.delete(listname)
        client.close()


def postgresql_schema(url: str) -> tuple[str, str]:
    schema = f"notifier_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in url else "?"
    scoped = f"{url}{separator}options=-csearch_path%3D{schema}"
    migrate_from_settings({"notifier.storage_url": scoped})
    return schema, scoped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1500, help="creates per run (1500)")
    parser.add_argument("--runs", type=int, default=3, help="runs per backend (3)")
    parser.add_argument("--concurrency", type=int, default=16, help="client connections (16)")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="per run (60)")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--postgresql-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    signal.alarm(int(args.max_seconds * (args.runs + 2) * 2 + 60))
    results: dict[str, Any] = {
        "machine": f"{os.cpu_count()} cores, Python {platform.python_version()}",
        "command": "python bench/storage_create.py " + " ".join(sys.argv[1:]),
        "concurrency": args.concurrency,
        "requests_per_run": args.requests,
    }
    with tempfile.TemporaryDirectory() as work:
        for backend in args.backends.split(","):
            if backend == "sqlite":
                storage = {"notifier.storage_url": str(Path(work) / "bench.sqlite")}
                results["sqlite"] = bench_backend(storage, args, Path(work))
                continue
            schema, url = postgresql_schema(args.postgresql_url)
            storage = {
                "notifier.storage_backend": "notifier.storage.postgresql",
                "notifier.storage_url": url,
                "notifier.storage_pool_size": "16",
            }
            try:
                results["postgresql"] = bench_backend(storage, args, Path(work))
            finally:
                with psycopg.connect(args.postgresql_url, autocommit=True) as connection:
                    connection.execute(f"DROP SCHEMA {schema} CASCADE")
    json.dump(results, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
