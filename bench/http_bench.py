"""HTTP benchmarks: record creation per listener set and backend, reads, growth, sustained RSS.

Every case runs wrk with 16 connections against its own server process on
127.0.0.1 (waitress, threads = 4, as app.ini).  The cases of one table run
side by side and are measured in interleaved rounds (one wrk run of each case
per round, the order rotated each round), so that the drift of a shared
machine falls on all of them alike; figures are median/min/max over the
rounds, with the server's CPU time per request read from /proc.  The
ceilings are bench/bare_app.py on the same waitress settings: bare, and
durable (one committed insert and one RPUSH per create) on each backend.
"""

from __future__ import annotations

import json
import tempfile
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import redis
from harness import cpu_seconds, peak_rss_mb, rss_mb, spread
from http_servers import (
    RECORDS,
    SQLITE,
    bare_server,
    durable_server,
    email_worker,
    ini_port,
    middle_timestamp,
    notifier_server,
    postgresql_backend,
    seed_records,
    smtp_sink,
    write_ini,
)
from kinto_server import kinto_server
from wrk_runner import Load, run_wrk

POST_BODY = json.dumps({"data": {"title": "hello", "n": 1, "tags": ["a", "b"]}})
CREATE = Load("POST", RECORDS, POST_BODY)


@dataclass(frozen=True)
class Plan:
    """How long and how often: the full run, or --quick."""

    runs: int = 3
    seconds: float = 5
    warmup: float = 2
    sizes: tuple[int, ...] = (1_000, 10_000, 100_000)
    sustained_warmup: float = 10
    sustained_seconds: float = 60
    #: Run every HTTP server, the ceiling and notifier alike, on this core only.
    server_cpu: int | None = None
    #: The PostgreSQL server of the PostgreSQL cases (a schema of their own each).
    postgresql: str = "postgresql://postgres@127.0.0.1:5432/test"


@dataclass
class Target:
    """One server under one load, and what its rounds measured."""

    name: str
    port: int
    pid: int
    load: Load
    runs: list[dict[str, Any]] = field(default_factory=list)
    cpu_seconds: float = 0.0

    def figures(self) -> dict[str, Any]:
        requests = sum(run["requests"] for run in self.runs)
        return {
            "rps": spread([run["rps"] for run in self.runs], 1),
            "p50_ms": spread([run["p50_ms"] for run in self.runs], 3),
            "p99_ms": spread([run["p99_ms"] for run in self.runs], 3),
            "cpu_us_per_request": round(self.cpu_seconds / requests * 1e6) if requests else None,
            "errors": sum(run["errors"] for run in self.runs),
            "requests": requests,
        }


def interleave(targets: list[Target], plan: Plan) -> dict[str, Any]:
    """Warm each target up, then ``plan.runs`` rounds of one wrk run each, the order
    rotated each round; figures of each target by name."""
    for target in targets:
        run_wrk(target.port, target.load, plan.warmup)
    for number in range(plan.runs):
        shift = number % len(targets)
        for target in targets[shift:] + targets[:shift]:
            before = cpu_seconds(target.pid)
            target.runs.append(run_wrk(target.port, target.load, plan.seconds))
            target.cpu_seconds += cpu_seconds(target.pid) - before
    return {target.name: target.figures() for target in targets}


def measure(port: int, load: Load, plan: Plan, seconds: float | None = None) -> dict[str, Any]:
    """Warm up, then ``plan.runs`` wrk runs; median/min/max of req/s, p50 and p99."""
    run_wrk(port, load, plan.warmup)
    runs = [run_wrk(port, load, seconds or plan.seconds) for _ in range(plan.runs)]
    return {
        "rps": spread([run["rps"] for run in runs], 1),
        "p50_ms": spread([run["p50_ms"] for run in runs], 3),
        "p99_ms": spread([run["p99_ms"] for run in runs], 3),
        "errors": sum(run["errors"] for run in runs),
        "requests": sum(run["requests"] for run in runs),
    }


@contextmanager
def notifier_for(
    listeners: str, redis_url: str, plan: Plan, smtp_port: int = 1, postgresql: bool = False
) -> Iterator[tuple[Path, int]]:
    """A fresh folder, database (a SQLite file, or a PostgreSQL schema) and server for
    ``listeners``: yields (ini, pid)."""
    with tempfile.TemporaryDirectory(prefix="notifier-bench-") as folder, ExitStack() as stack:
        backend = SQLITE
        if postgresql:
            backend = stack.enter_context(postgresql_backend(plan.postgresql))
        ini = write_ini(Path(folder), listeners, redis_url, smtp_port, backend)
        pid = stack.enter_context(notifier_server(stack, ini, plan.server_cpu))
        yield ini, pid


#: The create cases measured side by side: (name, listeners, on PostgreSQL).
CREATE_CASES = (
    ("no_listeners", "", False),
    ("log_to_file", "log", False),
    ("redis", "redis", False),
    ("redis_postgresql", "redis", True),
)


def create_records(redis_url: str, plan: Plan) -> dict[str, Any]:
    """(1) POST .../records: the three ceilings, notifier's cases and Kinto 26 (with
    kinto-redis, memory and PostgreSQL) side by side, then notifier with an email worker
    beside it."""
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    with ExitStack() as stack:
        port, pid = bare_server(stack, plan.server_cpu)
        targets = [Target("ceiling_bare_pyramid", port, pid, CREATE)]
        for backend in ("sqlite", "postgresql"):
            port, pid = durable_server(stack, backend, redis_url, plan.postgresql, plan.server_cpu)
            targets.append(Target(f"ceiling_durable_{backend}", port, pid, CREATE))
        for case, listeners, postgresql in CREATE_CASES:
            ini, pid = stack.enter_context(
                notifier_for(listeners, redis_url, plan, postgresql=postgresql)
            )
            targets.append(Target(case, ini_port(ini), pid, CREATE))
        for backend, url in (("memory", None), ("postgresql", plan.postgresql)):
            port, pid = stack.enter_context(kinto_server(stack, redis_url, url, plan.server_cpu))
            targets.append(Target(f"kinto_26_{backend}", port, pid, CREATE))
        results = interleave(targets, plan)
        for target in targets:
            results[target.name]["rss_mb"] = peak_rss_mb(target.pid)
    client.flushdb()
    with ExitStack() as stack:
        smtp_port = smtp_sink(stack)
        ini, pid = stack.enter_context(notifier_for("redis", redis_url, plan, smtp_port))
        worker_pid = email_worker(stack, ini)
        email = Target("redis_and_email_worker", ini_port(ini), pid, CREATE)
        results["redis_and_email_worker"] = {
            **interleave([email], plan)[email.name],
            "rss_mb": peak_rss_mb(pid),
            "worker_rss_mb": peak_rss_mb(worker_pid),
            "queue_backlog_at_end": client.llen("eventqueue"),
        }
    client.close()
    return results


def reads(redis_url: str, plan: Plan, records: int = 10_000) -> dict[str, Any]:
    """(2) GET one record, list with _limit=100, and _since, on ``records`` records,
    on SQLite and on PostgreSQL, side by side with the bare ceiling."""
    with ExitStack() as stack:
        port, ceiling_pid = bare_server(stack, plan.server_cpu)
        targets = [
            Target("ceiling_get_one", port, ceiling_pid, Load("GET", f"{RECORDS}/x")),
            Target("ceiling_list_100", port, ceiling_pid, Load("GET", f"{RECORDS}?_limit=100")),
        ]
        pids = {}
        for suffix, postgresql in (("", False), ("_postgresql", True)):
            backend = SQLITE
            if postgresql:
                backend = stack.enter_context(postgresql_backend(plan.postgresql))
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="notifier-")))
            ini = write_ini(folder, "redis", redis_url, backend=backend)
            pids[suffix] = stack.enter_context(notifier_server(stack, ini, plan.server_cpu))
            seed_records(ini, records, backend=backend)
            paths = read_paths(middle_timestamp(ini, backend))
            targets += [
                Target(case + suffix, ini_port(ini), pids[suffix], Load("GET", path))
                for case, path in paths.items()
            ]
        results = interleave(targets, plan)
        results["ceiling_rss_mb"] = peak_rss_mb(ceiling_pid)
        results["rss_mb"] = peak_rss_mb(pids[""])
        results["rss_mb_postgresql"] = peak_rss_mb(pids["_postgresql"])
    results["records"] = records
    return results


def read_paths(since: int) -> dict[str, str]:
    return {
        "get_one": f"{RECORDS}/seed-000000",
        "list_100": f"{RECORDS}?_limit=100",
        "since_100": f"{RECORDS}?_since={since}&_limit=100",
    }


def growth(redis_url: str, plan: Plan) -> dict[str, Any]:
    """(6) Time per request and RSS as one collection grows through ``plan.sizes``."""
    short = replace(plan, seconds=max(1, plan.seconds / 2), warmup=1)
    rows = []
    with notifier_for("redis", redis_url, plan) as (ini, pid):
        port, seeded = ini_port(ini), 0
        for size in plan.sizes:
            seed_records(ini, size - seeded, start=seeded)
            seeded = size
            row: dict[str, Any] = {"records": size}
            for case, path in read_paths(middle_timestamp(ini)).items():
                row[case] = measure(port, Load("GET", path), short)
            row["create"] = measure(port, CREATE, short)
            row["rss_mb"] = rss_mb(pid)
            rows.append(row)
        peak = peak_rss_mb(pid)
    return {"sizes": rows, "peak_rss_mb": peak}


def sustained(redis_url: str, plan: Plan) -> dict[str, Any]:
    """(6) RSS of the server, sampled each second, over a sustained write load."""
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    samples: list[float] = []
    with notifier_for("redis", redis_url, plan) as (ini, pid):
        port = ini_port(ini)
        run_wrk(port, CREATE, plan.sustained_warmup)
        done = threading.Event()

        def sample() -> None:
            while not done.wait(1.0):
                samples.append(rss_mb(pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        load = run_wrk(port, CREATE, plan.sustained_seconds)
        done.set()
        sampler.join()
    client.flushdb()
    client.close()
    first, last = samples[0], samples[-1]
    return {
        "warmup_seconds": plan.sustained_warmup,
        "seconds": plan.sustained_seconds,
        "rps": round(load["rps"], 1),
        "p99_ms": load["p99_ms"],
        "rss_mb_first": first,
        "rss_mb_last": last,
        "rss_mb_max": max(samples),
        "growth_pct": round((last - first) / first * 100, 1),
        "max_over_first_pct": round((max(samples) - first) / first * 100, 1),
        "samples": samples,
    }
