"""Creates on PostgreSQL from one process and from two (``notifier serve --processes 2``).

Both servers serve the same INI but for their schema and their Redis
database, and run side by side in interleaved rounds with the PostgreSQL
durable ceiling as a reference line; the server CPU of the two-process case
counts its children (harness.cpu_seconds).  Each server takes two loads:
the seed's POST into one collection, where every create waits its turn on
the list's timestamp row from its stamp to its commit (by design: ``_since``
never skips a write), and the same POST spread over COLLECTIONS
collections, which share no such row.  At the end every committed
record's event must be in its case's queue, once: the figures of a case
that lost or repeated events are not worth reading, so the counts go in the
result beside them.  ``--server-cpu`` does not apply here: two processes
on one core would measure nothing.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import psycopg
import redis
from harness import request
from http_bench import CREATE, POST_BODY, Plan, Target, interleave
from http_servers import durable_server as ceiling_server
from http_servers import ini_port, notifier_server, postgresql_backend, write_ini
from wrk_runner import Load

#: (name, processes, Redis database of its queue); the ceiling uses database 0.
CASES = (("one_process", 1, 1), ("two_processes", 2, 2))
DRAIN_SECONDS = 60.0
COLLECTIONS = 16
SPREAD_PATHS = tuple(f"/v1/buckets/b/collections/c{n}/records" for n in range(COLLECTIONS))
SPREAD = Load("POST", SPREAD_PATHS[0], POST_BODY, paths=SPREAD_PATHS)


def database(url: str, number: int) -> str:
    """``url`` (redis://host:port/0) on Redis database ``number``."""
    return url.rsplit("/", 1)[0] + f"/{number}"


def queued_once(url: str, redis_url: str) -> dict[str, int]:
    """Records committed in the schema at ``url`` against the events of ``redis_url``'s
    queue, once the outbox is empty (or DRAIN_SECONDS passed)."""
    deadline = time.monotonic() + DRAIN_SECONDS
    with psycopg.connect(url) as pg:
        while pg.execute("SELECT count(*) FROM outbox").fetchone() != (0,):
            if time.monotonic() > deadline:
                break
            time.sleep(0.2)
        rows = pg.execute("SELECT id FROM objects WHERE resource = 'record'").fetchall()
        backlog = pg.execute("SELECT count(*) FROM outbox").fetchone()
    records = {row[0] for row in rows}
    with redis.Redis.from_url(redis_url) as client:
        raw = client.lrange("eventqueue", 0, -1)
    seen = Counter(json.loads(message)["record_id"] for message in raw)
    return {
        "records": len(records),
        "events": len(raw),
        "missing": len(records - set(seen)),
        "duplicated": sum(count - 1 for count in seen.values() if count > 1),
        "unknown": len(set(seen) - records),
        "outbox_backlog_at_end": int(backlog[0]) if backlog else -1,
    }


def processes(redis_url: str, plan: Plan) -> dict[str, Any]:
    """(7) POST .../records on PostgreSQL from one and from two app processes, side by side."""
    for _, _, number in CASES:
        redis.Redis.from_url(database(redis_url, number)).flushdb()
    with ExitStack() as stack:
        port, pid = ceiling_server(stack, "postgresql", redis_url, plan.postgresql)
        targets = [Target("ceiling_durable_postgresql", port, pid, CREATE)]
        schemas = {}
        for name, count, number in CASES:
            backend = stack.enter_context(postgresql_backend(plan.postgresql))
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="notifier-")))
            ini = write_ini(folder, "redis", database(redis_url, number), backend=backend)
            options = ("--processes", str(count))
            pid = stack.enter_context(notifier_server(stack, ini, options=options))
            for path in SPREAD_PATHS:  # the collections of the spread load
                request(ini_port(ini), "PUT", path.removesuffix("/records"), "{}")
            targets.append(Target(name, ini_port(ini), pid, CREATE))
            targets.append(Target(f"{name}_{COLLECTIONS}_collections", ini_port(ini), pid, SPREAD))
            schemas[name] = str(backend.postgresql_url)
        results = interleave(targets, plan)
        for name, _, number in CASES:
            results[name]["queue"] = queued_once(schemas[name], database(redis_url, number))
    for suffix in ("", f"_{COLLECTIONS}_collections"):
        one, two = (results[name + suffix]["rps"]["median"] for name, _, _ in CASES)
        results["two_over_one" + suffix] = round(two / one, 2) if one else None
    return results
