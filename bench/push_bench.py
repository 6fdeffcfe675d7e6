"""Push service figures: idle subscribers' memory, fan-out latency, replay under load.

    python bench/push_bench.py subscribers [--count 10000]
    python bench/push_bench.py fanout [--count 1000] [--rate 100] [--seconds 10] [--clients 2]
    python bench/push_bench.py fanout --rate 25,50,100,200     # the rates in turn
    python bench/push_bench.py replay [--count 200] [--rate 100] [--seconds 10]
    python bench/push_bench.py all          # the three, written to bench/results/push.json

Starts one push process (``python -m notifier.push``) on 127.0.0.1 over a
stream of its own on the local Redis (127.0.0.1:6379, or --redis), with a
bucket everyone may read.  Events are XADDed by this script (from a thread
that does nothing else), as the stream listener would, so the figures are
the push service's alone.  The fan-out and idle subscribers live in
``--clients`` processes of their own (``bench/push_clients.py``): latency is
XADD -> receive, on the machine's one clock.  Each fan-out phase reports the
CPU the push process and the clients used, as a share of one core, so that
a figure taken on a busy machine says so.  ``--profile`` records the push
process with py-spy during each phase (collapsed stacks beside the results).
Every phase has a deadline: a bench never hangs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import notifier  # noqa: E402
from bench.push_clients import Clients, percentile  # noqa: E402
from tests.ini import write_ini  # noqa: E402

SECRET = "bench-secret-of-at-least-32-characters"
PATH = "/v1/buckets/b/collections/c/events"
ID = re.compile(rb"^id: (\d+)-(\d+)$", re.M)
PAYLOAD = json.dumps({"n": 0, "text": "x" * 300})


class Push:
    """The push process, on a stream and a SQLite file of its own."""

    def __init__(self, redis_url: str, queue_size: int) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="push-bench-"))
        self.stream = f"bench-push-{uuid.uuid4().hex[:8]}"
        self.redis = redis.Redis.from_url(redis_url)
        settings = {
            "notifier.storage_url": str(self.dir / "notifier.sqlite"),
            "notifier.userid_hmac_secret": SECRET,
            "notifier.push.url": redis_url,
            "notifier.push.stream": self.stream,
            "notifier.push.port": "0",
            "notifier.push.queue_size": str(queue_size),
            "notifier.relay.in_process": "false",
        }
        readable_bucket(settings)
        ini = write_ini(self.dir / "app.ini", settings)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "notifier.push", ini],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        match = re.search(r"http://([\d.]+):(\d+)", line)
        if match is None:
            raise SystemExit(f"the push service did not start: {line!r}")
        self.host, self.port = match.group(1), int(match.group(2))

    def rss_mib(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def cpu_seconds(self) -> float:
        """User + system CPU the push process used so far: a figure the load does not skew."""
        return sum(self.cpu_times())

    def cpu_times(self) -> tuple[float, float]:
        """User and system (the kernel's side of each write) CPU seconds, so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        tick = os.sysconf("SC_CLK_TCK")
        return int(fields[11]) / tick, int(fields[12]) / tick

    def publish(self, n: int) -> str:
        message = {
            "action": "create",
            "resource_name": "record",
            "bucket_id": "b",
            "collection_id": "c",
            "record_id": f"r{n}",
            "event_id": uuid.uuid4().hex,
            "uri": f"/buckets/b/collections/c/records/r{n}",
            "impacted_objects": [{"new": {"id": f"r{n}", "payload": PAYLOAD}}],
        }
        return self.redis.xadd(self.stream, {"message": json.dumps(message)}).decode()

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.redis.delete(self.stream)
        self.redis.close()


def readable_bucket(settings: dict[str, str]) -> None:
    """Bucket b and collection c, readable by everyone, in the bench's SQLite file."""
    import webtest

    app = notifier.main({}, **settings)
    client = webtest.TestApp(app)
    auth = {"Authorization": "Basic YmVuY2g6YmVuY2g="}  # bench:bench
    everyone = {"permissions": {"read": ["system.Everyone"]}}
    client.put_json("/v1/buckets/b", everyone, headers=auth)
    client.put_json("/v1/buckets/b/collections/c", {}, headers=auth)
    notifier.shutdown(app.registry)


class Subscriber:
    """One SSE connection of the replay scenario: every position it received, in order."""

    def __init__(self) -> None:
        self.ids: list[tuple[int, int]] = []
        self.buffer = b""
        self.first = ""
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def connect(self, push: Push, since: str | None = None) -> None:
        self.reader, self.writer = await asyncio.open_connection(push.host, push.port)
        headers = f"Last-Event-ID: {since}\r\n" if since else ""
        self.writer.write(f"GET {PATH} HTTP/1.0\r\n{headers}\r\n".encode())
        head = await self.reader.readuntil(b": subscribed\n\n")
        if b" 200 " not in head.split(b"\r\n", 1)[0]:
            raise RuntimeError(head[:200])

    async def read(self) -> None:
        assert self.reader is not None
        try:
            while data := await self.reader.read(65536):
                self.buffer += data
                complete, _, self.buffer = self.buffer.rpartition(b"\n\n")
                for ms, seq in ID.findall(complete):
                    self.ids.append((int(ms), int(seq)))
        except (ConnectionError, asyncio.CancelledError):
            pass

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def connect_all(push: Push, count: int) -> list[Subscriber]:
    """``count`` subscribers, at most 200 connecting at a time."""
    gate = asyncio.Semaphore(200)
    subscribers = [Subscriber() for _ in range(count)]

    async def one(subscriber: Subscriber) -> None:
        async with gate:
            await asyncio.wait_for(subscriber.connect(push), 60)

    await asyncio.wait_for(asyncio.gather(*(one(s) for s in subscribers)), 300)
    return subscribers


async def until(condition: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        await asyncio.sleep(0.05)
    return False


def wait_until(condition: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def machine() -> dict[str, Any]:
    """The load, and the CPU time all processes of the machine used so far (seconds)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    ticks = [int(each) for each in fields]
    busy = sum(ticks) - ticks[3] - ticks[4]  # all but idle and iowait
    return {"load": os.getloadavg()[0], "busy_seconds": busy / os.sysconf("SC_CLK_TCK")}


def subscribers_figure(push: Push, count: int, processes: int) -> dict[str, Any]:
    idle = push.rss_mib()
    clients = Clients(processes, push.host, push.port, PATH)
    try:
        started = time.monotonic()
        clients.connect(count)
        connected_s = time.monotonic() - started
        time.sleep(2)  # let the service settle after the connection storm
        rss = push.rss_mib()
        clients.report()
        push.publish(0)
        hist: list[int] = []

        def reached_all() -> bool:
            report = clients.report()
            hist[:] = [a + b for a, b in zip(hist, report["hist"], strict=True)] or report["hist"]
            return sum(hist) >= count

        everyone = wait_until(reached_all, 60)
        report = clients.report()
    finally:
        clients.close()
    return {
        "load_average": os.getloadavg()[0],
        "subscribers": count,
        "connect_seconds": round(connected_s, 1),
        "rss_idle_mib": round(idle, 1),
        "rss_mib": round(rss, 1),
        "kib_per_subscriber": round((rss - idle) * 1024 / count, 1),
        "one_event_reached_all": everyone,
        "one_event_p50_ms": percentile(hist, 0.5),
        "one_event_max_ms": percentile(hist, 1.0),
        "dropped_subscribers": report["errors"] + report["closed"],
    }


def produce(push: Push, rate: float, seconds: float) -> list[str]:
    """XADD ``rate`` events a second for ``seconds``, on a fixed schedule."""
    ids, start = [], time.monotonic()
    for n in range(int(rate * seconds)):
        time.sleep(max(0.0, start + n / rate - time.monotonic()))
        ids.append(push.publish(n))
    return ids


def profiler(push: Push, seconds: float, out: Path | None) -> subprocess.Popen[bytes] | None:
    """py-spy recording the push process for ``seconds`` (when --profile names a folder)."""
    if out is None:
        return None
    out.mkdir(parents=True, exist_ok=True)
    command = ["py-spy", "record", "--pid", str(push.process.pid), "--duration"]
    command += [str(int(seconds)), "--rate", "250", "--format", "raw", "--nonblocking"]
    command += ["--output", str(out / f"push-server-{int(time.time())}.txt")]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def fanout_figure(
    push: Push, count: int, rates: list[float], seconds: float, processes: int, out: Path | None
) -> list[dict[str, Any]]:
    """One phase per rate on the same subscribers: p50/p99 XADD -> receive, CPU shares."""
    clients = Clients(processes, push.host, push.port, PATH)
    phases = []
    try:
        clients.connect(count)
        time.sleep(1)
        clients.report()  # from now
        for rate in rates:
            before, times, spy = machine(), push.cpu_times(), profiler(push, seconds, out)
            client_cpu, started = clients.report()["cpu_seconds"], time.monotonic()
            ids = produce(push, rate, seconds)
            produced_s = time.monotonic() - started
            deadline, report = time.monotonic() + 60, clients.report()
            hist, total = report["hist"], sum(report["hist"])
            while total < len(ids) * count and time.monotonic() < deadline:
                time.sleep(0.2)
                more = clients.report()
                hist = [a + b for a, b in zip(hist, more["hist"], strict=True)]
                total, report = sum(hist), more
            wall = time.monotonic() - started
            user, system = (b - a for a, b in zip(times, push.cpu_times(), strict=True))
            cpu, after = user + system, machine()
            client_cpu = report["cpu_seconds"] - client_cpu
            if spy is not None:
                spy.wait(seconds + 30)
            deliveries = len(ids) * count
            phases.append(
                {
                    "subscribers": count,
                    "events_per_second": rate,
                    "events": len(ids),
                    "deliveries_expected": deliveries,
                    "deliveries_timed": total,
                    "all_delivered": total == deliveries,
                    "dropped_subscribers": report["errors"] + report["closed"],
                    "out_of_order": report["out_of_order"],
                    "latency": "XADD -> receive (Redis's clock, same machine)",
                    "p50_ms": percentile(hist, 0.5),
                    "p99_ms": percentile(hist, 0.99),
                    "max_ms": percentile(hist, 1.0),
                    "push_cpu_us_per_delivery": round(cpu * 1e6 / max(1, deliveries), 2),
                    "push_cpu_share_of_a_core": round(cpu / produced_s, 2),
                    "push_cpu_system_part": round(system / max(cpu, 1e-9), 2),
                    "clients_cpu_share_of_a_core": round(client_cpu / produced_s, 2),
                    "machine_busy_share_of_all_cores": round(
                        (after["busy_seconds"] - before["busy_seconds"])
                        / wall
                        / (os.cpu_count() or 1),
                        2,
                    ),
                    "load_average_before": round(before["load"], 2),
                    "load_average_after": round(after["load"], 2),
                }
            )
            print(json.dumps({"fanout": phases[-1]}), flush=True)
    finally:
        clients.close()
    return phases


async def reconnecting(
    push: Push, subscriber: Subscriber, stop: asyncio.Event, last: list[tuple[int, int]]
) -> int:
    """Read, drop the connection at random moments, resume with Last-Event-ID; then
    read until the last event produced arrives (60 s at most: a loaded machine lags)."""
    reconnects = 0
    while not stop.is_set():
        reader = asyncio.create_task(subscriber.read())
        await asyncio.sleep(random.uniform(0.2, 1.5))
        subscriber.close()
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
        subscriber.buffer = b""  # a frame cut in half is sent again after the last full one
        seen = subscriber.ids[-1] if subscriber.ids else None
        since = f"{seen[0]}-{seen[1]}" if seen else subscriber.first
        await subscriber.connect(push, since)
        reconnects += 1
    reader = asyncio.create_task(subscriber.read())
    await until(lambda: bool(last) and bool(subscriber.ids) and subscriber.ids[-1] >= last[0], 60)
    subscriber.close()
    reader.cancel()
    return reconnects


async def replay_figure(push: Push, count: int, rate: float, seconds: float) -> dict[str, Any]:
    first = push.publish(-1)  # every subscriber starts after this one
    subscribers = await connect_all(push, count)
    for s in subscribers:
        s.first = first
        s.ids = []
    stop = asyncio.Event()
    last: list[tuple[int, int]] = []
    loops = [asyncio.create_task(reconnecting(push, s, stop, last)) for s in subscribers]
    ids = await asyncio.to_thread(produce, push, rate, seconds)
    last.append(tuple(map(int, ids[-1].split("-"))))  # type: ignore[arg-type]
    stop.set()
    reconnects = sum(await asyncio.wait_for(asyncio.gather(*loops), 180))
    expected = [tuple(map(int, each.split("-"))) for each in ids]
    gaps = dups = 0
    for s in subscribers:
        seen = s.ids
        dups += len(seen) - len(set(seen))
        gaps += len(set(expected) - set(seen))
    return {
        "subscribers": count,
        "events_per_second": rate,
        "events": len(ids),
        "reconnects": reconnects,
        "missing": gaps,
        "duplicates": dups,
        "in_order": all(s.ids == sorted(s.ids) for s in subscribers),
    }


def run(scenario: Any) -> Any:
    """The replay clients on uvloop too, where installed: they compete for the same cores."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(scenario)
    return uvloop.run(scenario)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("scenario", choices=["subscribers", "fanout", "replay", "all"])
    parser.add_argument("--count", type=int)
    parser.add_argument("--rate", default="100", help="events a second; a list for fanout")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--profile", type=Path, help="a folder for py-spy's stacks")
    args = parser.parse_args()
    rates = [float(each) for each in args.rate.split(",")]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    results: dict[str, Any] = {"date": time.strftime("%Y-%m-%d %H:%M"), "cpus": os.cpu_count()}
    results["commit"] = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    runs = {
        "subscribers": lambda p: subscribers_figure(p, args.count or 10_000, args.clients),
        "fanout": lambda p: fanout_figure(
            p, args.count or 1000, rates, args.seconds, args.clients, args.profile
        ),
        "replay": lambda p: run(replay_figure(p, args.count or 200, rates[0], args.seconds)),
    }
    for name in runs if args.scenario == "all" else [args.scenario]:
        push = Push(args.redis, queue_size=1000)
        try:
            results[name] = runs[name](push)
        finally:
            push.close()
        print(json.dumps({name: results[name]}), flush=True)
    if args.scenario == "all":
        out = ROOT / "bench" / "results" / "push.json"
        out.write_text(json.dumps(results, indent=2) + "\n")
        print(f"written to {out}")


if __name__ == "__main__":
    main()
