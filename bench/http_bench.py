"""HTTP benchmarks: record creation per listener set, reads, growth with size, sustained RSS.

Every case runs wrk with 16 connections against a fresh server process on
127.0.0.1 (waitress, threads = 4, as app.ini) after a short warm-up, several
times; figures are median/min/max over those runs.  The ceiling is
bench/bare_app.py on the same waitress settings, measured in the same run.
"""

from __future__ import annotations

import json
import tempfile
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import redis
from harness import peak_rss_mb, rss_mb, spread
from http_servers import (
    RECORDS,
    bare_server,
    email_worker,
    ini_port,
    middle_timestamp,
    notifier_server,
    seed_records,
    smtp_sink,
    write_ini,
)
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
    listeners: str, redis_url: str, plan: Plan, smtp_port: int = 1
) -> Iterator[tuple[Path, int]]:
    """A fresh folder, database and server for ``listeners``: yields (ini, pid)."""
    with tempfile.TemporaryDirectory(prefix="notifier-bench-") as folder, ExitStack() as stack:
        ini = write_ini(Path(folder), listeners, redis_url, smtp_port)
        pid = stack.enter_context(notifier_server(stack, ini, plan.server_cpu))
        yield ini, pid


def create_records(redis_url: str, plan: Plan) -> dict[str, Any]:
    """(1) POST .../records: the ceiling, then notifier with each listener set."""
    client = redis.Redis.from_url(redis_url)
    results: dict[str, Any] = {}
    with ExitStack() as stack:
        port, pid = bare_server(stack, plan.server_cpu)
        results["ceiling_bare_pyramid"] = {
            **measure(port, CREATE, plan),
            "rss_mb": peak_rss_mb(pid),
        }
    for case, listeners in (("no_listeners", ""), ("log_to_file", "log"), ("redis", "redis")):
        client.flushdb()
        with notifier_for(listeners, redis_url, plan) as (ini, pid):
            results[case] = {**measure(ini_port(ini), CREATE, plan), "rss_mb": peak_rss_mb(pid)}
    client.flushdb()
    with ExitStack() as stack:
        smtp_port = smtp_sink(stack)
        ini, pid = stack.enter_context(notifier_for("redis", redis_url, plan, smtp_port))
        worker_pid = email_worker(stack, ini)
        figures = measure(ini_port(ini), CREATE, plan)
        results["redis_and_email_worker"] = {
            **figures,
            "rss_mb": peak_rss_mb(pid),
            "worker_rss_mb": peak_rss_mb(worker_pid),
            "queue_backlog_at_end": client.llen("eventqueue"),
        }
    client.close()
    return results


def reads(redis_url: str, plan: Plan, records: int = 10_000) -> dict[str, Any]:
    """(2) GET one record, list with _limit=100, and _since, on ``records`` records."""
    results: dict[str, Any] = {}
    with ExitStack() as stack:
        port, pid = bare_server(stack, plan.server_cpu)
        results["ceiling_get_one"] = measure(port, Load("GET", f"{RECORDS}/x"), plan)
        results["ceiling_list_100"] = measure(port, Load("GET", f"{RECORDS}?_limit=100"), plan)
        results["ceiling_rss_mb"] = peak_rss_mb(pid)
    with notifier_for("redis", redis_url, plan) as (ini, pid):
        seed_records(ini, records)
        since = middle_timestamp(ini)
        port = ini_port(ini)
        for case, path in read_paths(since).items():
            results[case] = measure(port, Load("GET", path), plan)
        results["rss_mb"] = peak_rss_mb(pid)
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
