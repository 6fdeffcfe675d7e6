"""Profile the record-create path (or a read) in one process: the WSGI app called directly.

    pip install pyinstrument          # a profiling tool, not a project dependency
    python bench/profile_create.py [--requests 3000] [--listeners redis] [--cprofile | --plain]
    python bench/profile_create.py --includes notifier.plugins.prometheus   # with a plugin
    python bench/profile_create.py --postgresql URL --statements   # SQL statements per create
    python bench/profile_create.py --postgresql URL --statements --path get   # or list
    python bench/profile_create.py --postgresql URL --cpu --path list         # CPU per request

Builds the app from the benchmark INI (SQLite in a temporary folder, the
Redis listener on a private redis-server), then POSTs ``--requests`` small
records through the WSGI interface with no server in between, so the profile
shows notifier's own cost per request.  Prints the pyinstrument tree (or the
cProfile top 40 by cumulative time) and the mean time per request.

``--postgresql URL`` runs on PostgreSQL (a schema of its own, dropped
afterwards); ``--statements`` prints the SQL statements of one create, in
order (each is a round trip to PostgreSQL), instead of profiling.

``--path get`` (GET of one record) and ``--path list`` (a page of 100) do
the same for the reads of the HTTP benchmark, on 1,000 seeded records.
With ``--statements`` on PostgreSQL the connections go through a loopback
proxy that counts round trips (``roundtrips``), which the statement count
alone no longer tells once statements share a round trip.  ``--cpu`` prints
the process's CPU time (user + system, every thread) per request over
``--requests``, beside the wall time and the voluntary context switches
(each a wait: for PostgreSQL's answer, a lock): what the server pays,
without the handoffs between waitress's threads.

``--plain`` runs no profiler.  Under ``valgrind --tool=callgrind`` it counts
instructions, which repeat from run to run where times on this shared
machine do not: the difference between ``--requests 300`` and
``--requests 0``, divided by 300, is the instructions of one create.
"""

from __future__ import annotations

import argparse
import io
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

from harness import AUTH  # noqa: E402
from http_bench import POST_BODY  # noqa: E402
from http_servers import (  # noqa: E402
    RECORDS,
    SQLITE,
    Backend,
    postgresql_backend,
    seed_records,
    write_ini,
)
from roundtrips import RoundTripProxy  # noqa: E402
from webtest import TestApp  # noqa: E402

from notifier import main as make_app  # noqa: E402
from notifier.dev.redis_server import PrivateRedis  # noqa: E402

#: The requests ``--path`` names: each one made ``count`` times.
PATHS = ("create", "get", "list")
SEEDED = 1000


def build(
    folder: Path,
    listeners: str,
    redis_url: str,
    backend: Backend = SQLITE,
    seed: bool = False,
    includes: str = "",
) -> TestApp:
    from pyramid.paster import get_appsettings

    ini = write_ini(folder, listeners, redis_url, backend=backend, includes=includes)
    settings = dict(get_appsettings(str(ini), name="main"))
    settings["notifier.relay.in_process"] = "false"
    app = TestApp(make_app({"here": str(folder)}, **settings))
    for path in ("/v1/buckets/b", "/v1/buckets/b/collections/c"):
        app.put(path, "{}", headers={"Authorization": AUTH}, content_type="application/json")
    if seed:
        seed_records(ini, SEEDED, backend=backend)
    return app


def post_many(app: TestApp, count: int, path: str = "create") -> float:
    headers = {"Authorization": AUTH}
    started = time.perf_counter()
    for _ in range(count):
        if path == "create":
            app.post(
                RECORDS, POST_BODY, headers=headers, content_type="application/json", status=201
            )
        elif path == "get":
            app.get(f"{RECORDS}/seed-000000", headers=headers, status=200)
        else:
            app.get(f"{RECORDS}?_limit=100", headers=headers, status=200)
    return (time.perf_counter() - started) / max(count, 1)


@contextmanager
def statements() -> Iterator[list[str]]:
    """Record the SQL of every statement run through a psycopg or sqlite3 connection."""
    import psycopg

    seen: list[str] = []
    original = psycopg.Cursor.execute

    def execute(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(query if isinstance(query, str) else query.as_string(self.connection))
        return original(self, query, *args, **kwargs)

    psycopg.Cursor.execute = execute  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        psycopg.Cursor.execute = original  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--listeners", default="redis")
    parser.add_argument("--includes", default="", help="notifier.includes (plugins)")
    how = parser.add_mutually_exclusive_group()
    how.add_argument("--cprofile", action="store_true")
    how.add_argument("--plain", action="store_true", help="no profiler: for callgrind")
    how.add_argument("--statements", action="store_true", help="SQL of one request")
    how.add_argument("--cpu", action="store_true", help="CPU time per request, no profiler")
    parser.add_argument("--postgresql", metavar="URL", help="on PostgreSQL instead of SQLite")
    parser.add_argument("--path", choices=PATHS, default="create", help="the request made")
    args = parser.parse_args()
    server = PrivateRedis().start()
    try:
        with tempfile.TemporaryDirectory() as folder, ExitStack() as stack:
            backend = SQLITE
            proxy = None
            if args.postgresql:
                url = args.postgresql
                if args.statements:
                    proxy = RoundTripProxy(url)
                    stack.callback(proxy.close)
                    url = proxy.url
                backend = stack.enter_context(postgresql_backend(url))
            seed = args.path != "create"
            app = build(Path(folder), args.listeners, server.url, backend, seed, args.includes)
            post_many(app, 200, args.path)  # warm-up
            if args.statements:
                before = proxy.count if proxy else 0
                with statements() as seen:
                    post_many(app, 1, args.path)
                trips = f", {proxy.count - before} round trips" if proxy else ""
                print(f"{args.path}: {len(seen)} statements{trips}:", *seen, sep="\n  ")
                return
            if args.plain:
                print(f"mean per request: {post_many(app, args.requests, args.path) * 1e6:.0f} us")
                return
            if args.cpu:
                count = max(args.requests, 1)
                cpu, before = time.process_time(), resource.getrusage(resource.RUSAGE_SELF)
                wall = post_many(app, args.requests, args.path)
                cpu, after = time.process_time() - cpu, resource.getrusage(resource.RUSAGE_SELF)
                waits = (after.ru_nvcsw - before.ru_nvcsw) / count
                print(
                    f"{args.path}: CPU {cpu / count * 1e6:.0f} us, wall {wall * 1e6:.0f} us,"
                    f" {waits:.1f} voluntary context switches per request"
                )
                return
            if args.cprofile:
                import cProfile
                import pstats

                profiler = cProfile.Profile()
                mean = profiler.runcall(post_many, app, args.requests, args.path)
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(40)
                print(out.getvalue())
            else:
                from pyinstrument import Profiler

                with Profiler(interval=0.0002) as profiler:
                    mean = post_many(app, args.requests, args.path)
                print(profiler.output_text(unicode=False, color=False, show_all=False))
            print(f"mean per request: {mean * 1e6:.0f} us ({args.listeners or 'no listeners'})")
            print(f"without a profiler: {post_many(app, args.requests, args.path) * 1e6:.0f} us")
    finally:
        server.close()


if __name__ == "__main__":
    main()
