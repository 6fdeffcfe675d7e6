"""The ceiling of the HTTP benchmarks: a bare Pyramid app on the same waitress settings.

    python bench/bare_app.py --port 8890 [--threads 4]

It does what any JSON view must do and nothing notifier adds: parse the
request body, build a JSON response with ``ETag`` and ``Last-Modified``.
POST to any path echoes ``{"data": {...body, id, last_modified}}`` with 201;
GET returns one such object, or a list of ``_limit`` of them.  No storage,
no auth, no events.  Measured in the same run as notifier, it tells how much
of the cost is the framework and server and how much is ours.
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from email.utils import formatdate
from typing import Any

from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.response import Response
from waitress import serve


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


def create(request: Request) -> Response:
    data = json.loads(request.body)["data"]
    stamp = time.time_ns() // 1_000_000
    return _respond({"data": {**data, "id": str(uuid.uuid4()), "last_modified": stamp}}, stamp, 201)


def read(request: Request) -> Response:
    stamp = time.time_ns() // 1_000_000
    if "_limit" in request.GET:
        objects = [_object(n, stamp) for n in range(int(request.GET["_limit"]))]
        return _respond({"data": objects}, stamp)
    return _respond({"data": _object(0, stamp)}, stamp)


def make_app() -> Any:
    with Configurator() as config:
        config.add_route("any", "/*rest")
        config.add_view(create, route_name="any", request_method="POST")
        config.add_view(read, route_name="any", request_method="GET")
    return config.make_wsgi_app()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    serve(make_app(), host="127.0.0.1", port=args.port, threads=args.threads, _quiet=True)


if __name__ == "__main__":
    main()
