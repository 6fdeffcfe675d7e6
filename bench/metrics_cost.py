"""The prometheus plugin's cost on record creates: the same server with and without it.

    python bench/metrics_cost.py                 # wrk, interleaved rounds: req/s and CPU
    python bench/metrics_cost.py --quick         # shorter rounds
    python bench/metrics_cost.py --in-process    # no server, no wrk: CPU per create
    python bench/metrics_cost.py --micro         # the plugin's own calls for one create
    PROMETHEUS_MULTIPROC_DIR=$(mktemp -d) python bench/metrics_cost.py --micro

The HTTP run serves the bench INI (SQLite, the Redis listener, waitress with
4 threads) three times: without the plugin, with it, and with it in
prometheus_client's multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``, its
values in files), then runs wrk against each in turn, the order rotated
each round as in bench/run.py's create table, so load drifts on the machine
fall on every case alike.  It prints JSON: each case's figures and the
plugin's cost in req/s and in server CPU per request.

``--in-process`` builds two apps in this process (bench/profile_create.py's
way: the WSGI app called directly) and alternates rounds of creates on
each, timing the process's CPU: a figure that holds up on a busy machine
better than req/s do, though a create's own noise still hides the plugin.

``--micro`` times only what the plugin adds to one create, in a loop: its
tween (with the request's count and histogram) around a stand-in for the
dispatcher's observer calls for one listener (one event routed, one call
timed, one outcome), less the same stand-in without observers.  With
``PROMETHEUS_MULTIPROC_DIR`` set, in the multiprocess mode's file-backed
values.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

from harness import machine, require_wrk  # noqa: E402
from http_bench import CREATE, Plan, Target, interleave  # noqa: E402
from http_servers import ini_port, notifier_server, write_ini  # noqa: E402

from notifier.dev.redis_server import PrivateRedis  # noqa: E402

PLUGIN = "notifier.plugins.prometheus"
#: (case, notifier.includes, multiprocess mode)
CASES = (
    ("without_plugin", "", False),
    ("with_plugin", PLUGIN, False),
    ("with_plugin_multiprocess", PLUGIN, True),
)


def cost(base: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    """How much slower ``other`` is than ``base``: req/s lost (%) and CPU µs added."""
    rps = (base["rps"]["median"] - other["rps"]["median"]) / base["rps"]["median"] * 100
    cpu = (other["cpu_us_per_request"] or 0) - (base["cpu_us_per_request"] or 0)
    return {"rps_lost_percent": round(rps, 1), "cpu_us_added_per_request": cpu}


def http_run(plan: Plan) -> dict[str, Any]:
    require_wrk()
    server = PrivateRedis().start()
    try:
        with ExitStack() as stack:
            targets = []
            for case, includes, multiprocess in CASES:
                folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
                ini = write_ini(folder, "redis", server.url, includes=includes)
                env = {}
                if multiprocess:
                    (folder / "metrics").mkdir()
                    env["PROMETHEUS_MULTIPROC_DIR"] = str(folder / "metrics")
                pid = stack.enter_context(notifier_server(stack, ini, plan.server_cpu, **env))
                targets.append(Target(case, ini_port(ini), pid, CREATE))
            results = interleave(targets, plan)
    finally:
        server.close()
    base = results["without_plugin"]
    return {
        "cases": results,
        "cost": {case: cost(base, results[case]) for case, _, _ in CASES[1:]},
        "machine": machine(),
    }


def in_process_run(requests: int, rounds: int) -> dict[str, Any]:
    """CPU seconds per create of two in-process apps, rounds alternated."""
    from profile_create import build, post_many

    server = PrivateRedis().start()
    try:
        with tempfile.TemporaryDirectory() as one, tempfile.TemporaryDirectory() as two:
            apps = {
                "without_plugin": build(Path(one), "redis", server.url),
                "with_plugin": build(Path(two), "redis", server.url, includes=PLUGIN),
            }
            spent = {name: 0.0 for name in apps}
            for app in apps.values():
                post_many(app, 200)  # warm-up
            for number in range(rounds):
                order = list(apps) if number % 2 == 0 else list(reversed(apps))
                for name in order:
                    started = time.process_time()
                    post_many(apps[name], requests)
                    spent[name] += time.process_time() - started
    finally:
        server.close()
    per = {name: seconds / (requests * rounds) * 1e6 for name, seconds in spent.items()}
    added = per["with_plugin"] - per["without_plugin"]
    return {
        "cpu_us_per_create": {name: round(value, 1) for name, value in per.items()},
        "plugin_cpu_us_per_create": round(added, 1),
        "plugin_cost_percent": round(added / per["without_plugin"] * 100, 1),
        "requests": requests * rounds,
    }


def micro_run(loops: int) -> dict[str, Any]:
    """CPU per create of the plugin's own code: its tween around a handler that does
    nothing, and the delivery core's calls of its observer for one listener."""
    from types import SimpleNamespace

    from prometheus_client import CollectorRegistry
    from pyramid.registry import Registry

    from notifier.delivery.events import ResourceChanged
    from notifier.delivery.observers import Observers
    from notifier.plugins.prometheus.instruments import DeliveryMetrics, HttpMetrics
    from notifier.plugins.prometheus.tween import IHttpMetrics, metrics_tween_factory

    registry = CollectorRegistry()
    http, delivery = HttpMetrics(registry), DeliveryMetrics(registry)
    delivery.preset([("redis", False)])
    observers = Observers()
    observers.add(delivery)
    pyramid_registry = Registry()
    pyramid_registry.registerUtility(http, IHttpMetrics)
    response = SimpleNamespace(status_code=201)
    request = SimpleNamespace(method="POST", matched_route=SimpleNamespace(name="record-plural"))
    events = [ResourceChanged({"action": "create", "resource_name": "record"}, [])]

    def handler(request: Any) -> Any:
        """What the dispatcher does for one listener when observers are registered."""
        if observers:
            observers.routed("redis", events)
        started = time.perf_counter()
        if observers:
            observers.called("redis", time.perf_counter() - started)
            observers.settled("redis", "ok", 1)
        return response

    tween = metrics_tween_factory(handler, pyramid_registry)
    for _ in range(1000):
        tween(request)
    started = time.process_time()
    for _ in range(loops):
        tween(request)
    spent = time.process_time() - started
    observers.observers.clear()
    bare = time.process_time()
    for _ in range(loops):
        handler(request)
    spent_bare = time.process_time() - bare
    return {
        "plugin_cpu_us_per_create": round((spent - spent_bare) / loops * 1e6, 2),
        "multiprocess": bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR")),
        "loops": loops,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 s rounds after 1 s of warm-up")
    parser.add_argument("--runs", type=int, default=5, help="rounds per case")
    parser.add_argument("--in-process", action="store_true", help="CPU per create, no server")
    parser.add_argument("--requests", type=int, default=2000, help="creates per in-process round")
    parser.add_argument("--micro", action="store_true", help="the plugin's calls alone")
    args = parser.parse_args()
    if args.micro:
        result = micro_run(100_000)
    elif args.in_process:
        result = in_process_run(args.requests, args.runs)
    else:
        plan = Plan(runs=args.runs, seconds=2, warmup=1) if args.quick else Plan(runs=args.runs)
        result = http_run(plan)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
