"""End-to-end latency: from an HTTP 201 for a new record to its worker handler starting.

    python bench/e2e_latency.py [--requests 500] [--clients 1 8]

Starts a private redis-server, the server (waitress, SQLite, the Redis
listener) and one ``notifier-worker`` (batch size 1) as processes on
127.0.0.1, then creates records from ``clients`` concurrent connections.
For each record: t_sent (request sent), t_201 (response read), t_handler
(the handler started, noted in Redis by bench/latency_handler.py).  Prints
JSON with p50/p99 of t_handler - t_201 (negative when the worker starts
before the client has read the response) and of t_handler - t_sent.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from notifier.dev.redis_server import PrivateRedis, free_port  # noqa: E402

AUTH = "Basic dG9rZW46YWxpY2UtdG9rZW4="  # token:alice-token

INI = """
[app:main]
use = call:notifier:main
notifier.storage_url = {folder}/bench.sqlite
notifier.userid_hmac_secret = bench-secret-of-at-least-32-characters
notifier.event_listeners = redis
notifier.event_listeners.redis.use = notifier.listeners.redis
notifier.event_listeners.redis.url = {redis_url}
notifier.event_listeners.redis.listname = latency
notifier.event_listeners.redis.resources = record

[server:main]
host = 127.0.0.1
port = {port}
threads = 4
"""


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def wait_until_up(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/v1/__lbheartbeat__")
            connection.getresponse().read()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the server did not start")


def client_loop(port: int, count: int, results: list[tuple[str, float, float]]) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Authorization": AUTH, "Content-Type": "application/json"}
    body = json.dumps({"data": {"note": "latency"}})
    for _ in range(count):
        sent = time.time()
        connection.request("POST", "/v1/buckets/b/collections/c/records", body, headers)
        response = connection.getresponse()
        payload = json.loads(response.read())
        received = time.time()
        results.append((payload["data"]["id"], sent, received))


def run_load(port: int, clients: int, total: int) -> list[tuple[str, float, float]]:
    results: list[tuple[str, float, float]] = []
    threads = [
        threading.Thread(target=client_loop, args=(port, total // clients, results))
        for _ in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return results


def prepare(port: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Authorization": AUTH, "Content-Type": "application/json"}
    for path in ("/v1/buckets/b", "/v1/buckets/b/collections/c"):
        connection.request("PUT", path, "{}", headers)
        connection.getresponse().read()


def measure(client: redis.Redis, port: int, clients: int, total: int) -> dict[str, Any]:
    client.delete("latency:handled")
    results = run_load(port, clients, total)
    deadline = time.monotonic() + 30
    while client.hlen("latency:handled") < len(results) and time.monotonic() < deadline:
        time.sleep(0.05)
    handled = {
        key.decode(): float(value) for key, value in client.hgetall("latency:handled").items()
    }
    after_201 = [(handled[rid] - received) * 1000 for rid, _, received in results if rid in handled]
    after_send = [(handled[rid] - sent) * 1000 for rid, sent, _ in results if rid in handled]
    return {
        "clients": clients,
        "records": len(results),
        "handled": len(handled),
        "handler_start_after_201_ms": summary(after_201),
        "handler_start_after_request_sent_ms": summary(after_send),
    }


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(statistics.median(values), 3),
        "p99": round(percentile(values, 0.99), 3),
        "max": round(max(values), 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8])
    args = parser.parse_args(argv)
    server_redis = PrivateRedis().start()
    port = free_port()
    processes: list[subprocess.Popen[bytes]] = []
    try:
        with tempfile.TemporaryDirectory() as folder:
            ini = Path(folder) / "bench.ini"
            ini.write_text(INI.format(folder=folder, redis_url=server_redis.url, port=port))
            env = {
                **os.environ,
                "PYTHONPATH": f"{ROOT}:{ROOT / 'bench'}",
                "LATENCY_REDIS_URL": server_redis.url,
                "LATENCY_HASH": "latency:handled",
            }
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "notifier.cli.serve", str(ini)],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            processes.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "notifier.worker",
                        "latency_handler:handle",
                        "--ini",
                        str(ini),
                        "--listener",
                        "redis",
                        "-qq",
                    ],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            wait_until_up(port)
            prepare(port)
            client = redis.Redis.from_url(server_redis.url)
            run_load(port, 1, 50)  # warm-up
            results = [measure(client, port, clients, args.requests) for clients in args.clients]
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)
        server_redis.close()
    json.dump({"benchmark": "e2e_latency", "results": results}, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
