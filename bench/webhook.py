"""Webhook delivery: events/s POSTed and signed to a local receiver.  Prints JSON.

    python bench/webhook.py [--count 1000] [--runs 3] [--max-seconds 300]

- server: one ``python -m notifier.cli.serve`` process (SQLite, waitress
  threads = 4) whose only listener is the webhook, delivering in the request
  after commit; this process creates ``count`` records one after another on
  one keep-alive connection, timed until the receiver has them all.
- worker: ``count`` events waiting on a Redis list; ``notifier.worker.run``
  (concurrency 1, in this process) with the webhook listener of the same
  INI, as ``workers/send_webhook.py`` runs it; timed until the list is empty.

The receiver (bench/webhook_sink.py) is its own process: http.server,
HTTP/1.1 keep-alive, 204 to each POST.  Without --redis-url a private
redis-server is started.  Each case runs ``--runs`` times; the JSON gives
median/min/max.  Bounded: SIGALRM stops the whole run after --max-seconds.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import http.client
import json
import logging
import signal
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

import redis
from harness import AUTH, machine, process, python, request, spread, wait_until_up

from notifier.delivery.events import ResourceChanged
from notifier.dev.redis_server import PrivateRedis, free_port
from notifier.listeners.webhook import listener_from_ini
from notifier.worker import WorkerConfig, run

HERE = Path(__file__).resolve().parent
SECRET = "whsec_" + base64.b64encode(b"b" * 32).decode()
INI = """
[app:main]
use = call:notifier:main
notifier.storage_url = {folder}/bench.sqlite
notifier.userid_hmac_secret = bench-secret-of-at-least-32-characters
notifier.event_listeners = {listeners}
notifier.event_listeners.redis.use = notifier.listeners.redis
notifier.event_listeners.redis.url = {redis_url}
notifier.event_listeners.redis.listname = {listname}
notifier.event_listeners.hook.use = notifier.listeners.webhook
notifier.event_listeners.hook.url = http://127.0.0.1:{sink_port}/hooks
notifier.event_listeners.hook.secret = {secret}
notifier.event_listeners.hook.allow_private_addresses = true
notifier.event_listeners.hook.resources = record

[server:main]
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
RECORDS = "/v1/buckets/b/collections/c/records"


def message(number: int) -> str:
    """A record creation's queue message, as the application writes it."""
    record = {"id": f"r{number}", "last_modified": 1700000000000 + number, "n": number}
    payload = {
        "action": "create",
        "resource_name": "record",
        "event_id": uuid.uuid4().hex,
        "uri": f"/buckets/b/collections/c/records/r{number}",
        "bucket_id": "b",
        "collection_id": "c",
        "record_id": f"r{number}",
        "user_id": "basicauth:bench",
        "timestamp": record["last_modified"],
    }
    return ResourceChanged(payload, [{"new": record}]).to_json()


def received(sink_port: int) -> int:
    return int(request(sink_port, "GET", "/count")[1])


def wait_for_count(sink_port: int, count: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while received(sink_port) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the receiver got {received(sink_port)} of {count}")
        time.sleep(0.01)


def server_case(folder: Path, redis_url: str, sink_port: int, count: int) -> float:
    """Events/s from one server process delivering in the request."""
    port = free_port()
    ini = write_ini(folder, "hook", redis_url, "unused", sink_port, port)
    with process(python("-m", "notifier.cli.serve", str(ini))):
        wait_until_up(port)
        for path in ("/v1/buckets/b", "/v1/buckets/b/collections/c"):
            request(port, "PUT", path, "{}")
        before = received(sink_port)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Authorization": AUTH, "Content-Type": "application/json"}
        started = time.perf_counter()
        for number in range(count):
            connection.request("POST", RECORDS, json.dumps({"data": {"n": number}}), headers)
            response = connection.getresponse()
            response.read()
            if response.status != 201:
                raise RuntimeError(f"create: {response.status}")
        wait_for_count(sink_port, before + count)
        elapsed = time.perf_counter() - started
        connection.close()
    return count / elapsed


def worker_case(folder: Path, redis_url: str, sink_port: int, count: int) -> float:
    """Events/s from one worker thread draining a filled queue."""
    listname = f"bench-webhook-{uuid.uuid4().hex[:8]}"
    ini = write_ini(folder, "redis", redis_url, listname, sink_port, free_port())
    client = redis.Redis.from_url(redis_url)
    messages = [message(number) for number in range(count)]
    for start in range(0, count, 1000):
        client.rpush(listname, *messages[start : start + 1000])
    handler = listener_from_ini(str(ini), "hook")
    config = dataclasses.replace(WorkerConfig.from_ini(str(ini), "redis"), burst=True)
    before = received(sink_port)
    started = time.perf_counter()
    try:
        run(handler, config)
    finally:
        handler.close()
    elapsed = time.perf_counter() - started
    client.delete(*[key for key in client.scan_iter(f"{listname}*")] or [listname])
    client.close()
    if received(sink_port) - before != count:
        raise RuntimeError(f"the worker delivered {received(sink_port) - before} of {count}")
    return count / elapsed


def write_ini(
    folder: Path, listeners: str, redis_url: str, listname: str, sink_port: int, port: int
) -> Path:
    ini = folder / f"{listeners}-{port}.ini"
    ini.write_text(
        INI.format(
            folder=folder, listeners=listeners, redis_url=redis_url, listname=listname,
            sink_port=sink_port, secret=SECRET, port=port,
        )
    )  # fmt: skip
    return ini


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--max-seconds", type=int, default=300)
    parser.add_argument("--redis-url")
    args = parser.parse_args()
    signal.alarm(args.max_seconds)
    logging.basicConfig(level=logging.WARNING)
    results: dict[str, list[float]] = {"server": [], "worker": []}
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        redis_url = args.redis_url
        if redis_url is None:
            private = PrivateRedis().start()
            stack.callback(private.close)
            redis_url = private.url
        sink_port = free_port()
        stack.enter_context(process(python(str(HERE / "webhook_sink.py"), str(sink_port))))
        wait_until_up(sink_port, "/count")
        for run_number in range(args.runs):
            folder = Path(tmp) / f"run{run_number}"
            folder.mkdir()
            results["server"].append(server_case(folder, redis_url, sink_port, args.count))
            results["worker"].append(worker_case(folder, redis_url, sink_port, args.count))
    report = {
        "benchmark": "webhook",
        "unit": "events/s",
        "count": args.count,
        "runs": args.runs,
        "machine": machine(),
        **{case: spread(samples, 1) for case, samples in results.items()},
    }
    json.dump(report, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
