"""A/B runs: several servers up at once, measured in interleaved rounds of one load.

    python bench/ab.py --load create --arm before=/tmp/tree-a --arm after=. \\
        --ceiling durable-sqlite --rounds 3

An arm ``NAME=TREE`` is notifier served from the source tree ``TREE`` (a git
worktree of the commit under test) on the bench INI, with ``--listeners``
(default: the Redis listener) on ``--backend``; ``NAME=TREE:quiet`` also sets
waitress's ``waitress.queue`` logger to ERROR in its INI.  A ceiling is
``bare``, ``durable-sqlite`` or ``durable-postgresql`` (bench/bare_app.py).
Every server runs for the whole run; each round measures every arm once, in
an order rotated each round (bench/http_bench.py's ``interleave``).  Prints a
Markdown table: per arm the median (min-max) over the rounds of req/s, p50
and p99, the server's CPU time per request (from /proc), and the ratio of
its median req/s to the first arm's; ``--out`` writes the figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

from harness import require_wrk  # noqa: E402
from http_bench import CREATE, Plan, Target, interleave  # noqa: E402
from http_servers import (  # noqa: E402
    RECORDS,
    SQLITE,
    bare_server,
    durable_server,
    ini_port,
    notifier_server,
    postgresql_backend,
    seed_records,
    write_ini,
)
from wrk_runner import Load  # noqa: E402

from notifier.dev.redis_server import PrivateRedis  # noqa: E402

LOADS = {
    "create": CREATE,
    "get_one": Load("GET", f"{RECORDS}/seed-000000"),
    "list_100": Load("GET", f"{RECORDS}?_limit=100"),
}
CEILINGS = ("bare", "durable-sqlite", "durable-postgresql")


def start_notifier(
    stack: ExitStack, spec: str, args: argparse.Namespace, redis_url: str
) -> tuple[int, int]:
    """Serve notifier from the tree of ``spec`` (``TREE[:quiet]``); return (port, pid)."""
    tree, _, option = spec.partition(":")
    folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="notifier-ab-")))
    backend = SQLITE
    if args.backend == "postgresql":
        backend = stack.enter_context(postgresql_backend(args.postgresql))
    ini = write_ini(folder, args.listeners, redis_url, backend=backend, quiet=option == "quiet")
    pid = stack.enter_context(notifier_server(stack, ini, root=Path(tree).resolve()))
    if args.load != "create":
        seed_records(ini, args.records, backend=backend)
    return ini_port(ini), pid


def table(arms: dict[str, Any]) -> str:
    def fig(value: dict[str, float]) -> str:
        return f"{value['median']:g} ({value['min']:g}-{value['max']:g})"

    first = next(iter(arms.values()))["rps"]["median"]
    rows = [
        "| arm | req/s | / first | p50 ms | p99 ms | CPU us / request | errors |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, arm in arms.items():
        rows.append(
            f"| {name} | {fig(arm['rps'])} | {arm['rps']['median'] / first:.2f}"
            f" | {fig(arm['p50_ms'])} | {fig(arm['p99_ms'])} | {arm['cpu_us_per_request']}"
            f" | {arm['errors']} |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--load", choices=sorted(LOADS), default="create")
    parser.add_argument("--arm", action="append", default=[], metavar="NAME=TREE[:quiet]")
    parser.add_argument("--ceiling", action="append", default=[], choices=CEILINGS)
    parser.add_argument("--listeners", default="redis")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--postgresql", default=Plan.postgresql, metavar="URL")
    parser.add_argument("--records", type=int, default=10_000, help="seeded for the reads")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--out", type=Path, help="also write the figures here as JSON")
    args = parser.parse_args(argv)
    require_wrk()
    load = LOADS[args.load]
    redis_server = PrivateRedis().start()
    try:
        with ExitStack() as stack:
            targets = []
            for kind in args.ceiling:
                if kind == "bare":
                    port, pid = bare_server(stack)
                else:
                    backend = kind.split("-")[1]
                    port, pid = durable_server(stack, backend, redis_server.url, args.postgresql)
                targets.append(Target(f"ceiling {kind}", port, pid, load))
            for spec in args.arm:
                name, _, tree = spec.partition("=")
                port, pid = start_notifier(stack, tree, args, redis_server.url)
                targets.append(Target(name, port, pid, load))
            figures = interleave(targets, Plan(runs=args.rounds, seconds=args.seconds, warmup=1))
    finally:
        redis_server.close()
    if args.out:
        settings = {key: str(value) for key, value in vars(args).items()}
        args.out.write_text(json.dumps({"settings": settings, "arms": figures}, indent=2) + "\n")
    print(table(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
