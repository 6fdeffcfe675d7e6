"""The ceilings of the HTTP benchmarks: a bare Pyramid app on the same waitress settings.

    python bench/bare_app.py --port 8890 [--threads 4]
    python bench/bare_app.py --port 8890 --sqlite FILE --redis URL          # durable, SQLite
    python bench/bare_app.py --port 8890 --postgresql URL --redis URL       # durable, PostgreSQL

Bare, it does what any JSON view must do and nothing notifier adds: parse the
request body, build a JSON response with ``ETag`` and ``Last-Modified``.
POST to any path echoes ``{"data": {...body, id, last_modified}}`` with 201;
GET returns one such object, or a list of ``_limit`` of them.  No storage,
no auth, no events.

Durable (``--sqlite`` or ``--postgresql``, with ``--redis``), a POST also does
the work a create must do before its 201: one committed insert of the
record's JSON (SQLite in WAL with synchronous=NORMAL, writers of the process
queued on a lock as SQLite has one writer; PostgreSQL through a psycopg
pool of ``--threads`` connections) and one RPUSH of its event.  Measured in
the same run as notifier, it tells what notifier costs beyond that work.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from email.utils import formatdate
from typing import Any

import redis
from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.response import Response
from waitress import serve

EVENTS = "ceiling:events"
TABLE = "CREATE TABLE IF NOT EXISTS records (id TEXT PRIMARY KEY, parent TEXT, data {})"

Store = Callable[[str, str, str], None]


def _respond(body: Any, stamp: int, status: int = 200) -> Response:
    response = Response(
        json_body=body, status=status, charset="utf-8", content_type="application/json"
    )
    response.headers["ETag"] = f'"{stamp}"'
    response.headers["Last-Modified"] = formatdate(stamp / 1000.0, usegmt=True)
    return response


def _object(number: int, stamp: int) -> dict[str, Any]:
    return {
        "id": f"seed-{number:06d}",
        "last_modified": stamp - number,
        "title": "hello",
        "n": number,
    }


def sqlite_store(path: str) -> Store:
    """Insert and commit on a connection per thread; the process's writers take a lock."""
    local = threading.local()
    writer = threading.Lock()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(TABLE.format("TEXT"))

    def store(record_id: str, parent: str, data: str) -> None:
        db = getattr(local, "db", None)
        if db is None:
            db = local.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA busy_timeout=5000")
        with writer:
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT INTO records VALUES (?, ?, ?)", (record_id, parent, data))
            db.execute("COMMIT")

    return store


def postgresql_store(url: str, size: int) -> Store:
    """Insert and commit through a psycopg pool of ``size`` connections."""
    from psycopg_pool import ConnectionPool

    pool = ConnectionPool(url, min_size=size, max_size=size, open=True)
    with pool.connection() as db:
        db.execute(TABLE.format("JSONB"))

    def store(record_id: str, parent: str, data: str) -> None:
        with pool.connection() as db:  # commits on the way out
            db.execute("INSERT INTO records VALUES (%s, %s, %s)", (record_id, parent, data))

    return store


def make_app(store: Store | None = None, client: redis.Redis | None = None) -> Any:
    def create(request: Request) -> Response:
        data = json.loads(request.body)["data"]
        stamp = time.time_ns() // 1_000_000
        record = {**data, "id": str(uuid.uuid4()), "last_modified": stamp}
        if store is not None and client is not None:
            store(record["id"], request.path, json.dumps(record))
            event = {"action": "create", "uri": f"{request.path}/{record['id']}"}
            client.rpush(EVENTS, json.dumps({**event, "impacted_objects": [{"new": record}]}))
        return _respond({"data": record}, stamp, 201)

    def read(request: Request) -> Response:
        stamp = time.time_ns() // 1_000_000
        if "_limit" in request.GET:
            objects = [_object(n, stamp) for n in range(int(request.GET["_limit"]))]
            return _respond({"data": objects}, stamp)
        return _respond({"data": _object(0, stamp)}, stamp)

    with Configurator() as config:
        config.add_route("any", "/*rest")
        config.add_view(create, route_name="any", request_method="POST")
        config.add_view(read, route_name="any", request_method="GET")
    return config.make_wsgi_app()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=4)
    durable = parser.add_mutually_exclusive_group()
    durable.add_argument("--sqlite", metavar="FILE", help="durable: insert into this SQLite file")
    durable.add_argument("--postgresql", metavar="URL", help="durable: insert through a pool")
    parser.add_argument("--redis", metavar="URL", help="durable: RPUSH each event here")
    args = parser.parse_args()
    store: Store | None = None
    if args.sqlite:
        store = sqlite_store(args.sqlite)
    elif args.postgresql:
        store = postgresql_store(args.postgresql, args.threads)
    if store is not None and not args.redis:
        parser.error("--sqlite and --postgresql need --redis")
    client = redis.Redis.from_url(args.redis) if args.redis else None
    serve(
        make_app(store, client), host="127.0.0.1", port=args.port, threads=args.threads, _quiet=True
    )


if __name__ == "__main__":
    main()
