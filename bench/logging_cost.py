"""What a request's id and summary line cost: CPU per request, in-process.

    PYTHONPATH=. python bench/logging_cost.py [--requests 20000] [--runs 5]

Runs what the request-id tween adds to every request (accept the client's
id, make it current, write the ``notifier.request.summary`` line to a
handler on /dev/null) with the text format, the JSON format, and the
summary logger off; and the cost of generating an id. Prints JSON: the best
of several runs, in microseconds of process CPU time.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time

from pyramid.request import Request

from notifier.http.summary import log_summary
from notifier.logs.context import accept_request_id, request_id_scope
from notifier.logs.setup import apply_log_format

TEXT = "%(asctime)s %(levelname)-5.5s [%(name)s] [%(request_id)s] %(message)s"


def per_request(mode: str, requests: int, runs: int) -> float:
    """Best-of-``runs`` CPU microseconds for id + scope + summary, ``mode`` text/json/off."""
    handler = logging.StreamHandler(open(os.devnull, "w"))  # noqa: SIM115 (kept for the run)
    handler.setFormatter(logging.Formatter(TEXT))
    logging.getLogger().handlers[:] = [handler]
    logging.getLogger("notifier").setLevel(logging.WARNING if mode == "off" else logging.INFO)
    apply_log_format("json" if mode == "json" else "text")
    request = Request.blank("/v1/buckets/b", method="PUT")
    best = float("inf")
    for _ in range(runs):
        started = time.process_time()
        for _ in range(requests):
            with request_id_scope(accept_request_id("bench-1")):
                log_summary(request, 201, time.perf_counter())
        best = min(best, (time.process_time() - started) / requests * 1e6)
    return round(best, 2)


def generate(requests: int) -> float:
    started = time.process_time()
    for _ in range(requests):
        accept_request_id(None)
    return round((time.process_time() - started) / requests * 1e6, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    result = {mode: per_request(mode, args.requests, args.runs) for mode in ("text", "json", "off")}
    result["generate_id"] = generate(args.requests)
    print(json.dumps({"unit": "us CPU per request", **result}))


if __name__ == "__main__":
    main()
