"""``notifier-worker module:function``: run a handler over the queue until stopped."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from notifier.retry import RetryPolicy
from notifier.settings import suggestion
from notifier.worker import run
from notifier.worker.config import MAX_BATCH, WORKER_RETRY, WorkerConfig
from notifier.worker.runtime import Handler
from notifier.worker.source import add_source_arguments, setup_logging, source_from_args
from notifier.worker.status import default_status


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="notifier-worker",
        description="Call a handler for each event of a notifier Redis queue.",
    )
    parser.add_argument("handler", help="module:function taking one ResourceChanged")
    add_source_arguments(parser)
    parser.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    parser.add_argument("--concurrency", type=int, default=1, help="handler threads (1)")
    parser.add_argument(
        "--batch-size",
        type=int,
        default=1,
        help=f"messages claimed per round trip, 1..{MAX_BATCH} (1)",
    )
    parser.add_argument(
        "--max-attempts",
        type=int,
        default=WORKER_RETRY.max_attempts,
        help=f"attempts before a message goes to <listname>:dead ({WORKER_RETRY.max_attempts})",
    )
    parser.add_argument("--heartbeat-ttl", type=float, default=30.0, help="seconds (30)")
    parser.add_argument(
        "--block-timeout", type=float, default=1.0, help="seconds a claim waits for a message (1)"
    )
    parser.add_argument(
        "--backoff-base",
        type=float,
        default=WORKER_RETRY.backoff_base,
        help=f"first retry delay in seconds, doubled per attempt ({WORKER_RETRY.backoff_base:g})",
    )
    parser.add_argument(
        "--backoff-max",
        type=float,
        default=WORKER_RETRY.backoff_max,
        help=f"longest retry delay in seconds ({WORKER_RETRY.backoff_max:g})",
    )
    parser.add_argument("-q", "--quiet", action="count", default=0, help="warnings only")
    return parser


def load_handler(spec: str) -> Handler:
    """Import ``module:function``.

    Raises LookupError when the module or function does not exist; an
    ImportError raised inside the user's module propagates as itself.
    """
    module_name, _, function_name = spec.partition(":")
    if not module_name or not function_name:
        raise LookupError(f"handler {spec!r}: expected module:function")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name and module_name.startswith(error.name):
            raise LookupError(f"handler {spec!r}: no module named {error.name!r}") from None
        raise
    handler = getattr(module, function_name, None)
    if not callable(handler):
        names = [name for name in vars(module) if callable(getattr(module, name))]
        hint = suggestion(function_name, names)
        raise LookupError(
            f"handler {spec!r}: {module_name} has no function {function_name!r}{hint}"
        )
    return handler


def worker_main(argv: Sequence[str] | None = None) -> int:
    """Run the worker; 0 after a warm stop or a drained burst, 1 after a cold stop."""
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(2 if args.quiet else 0)
    url, listname = source_from_args(parser, args)
    if "" not in sys.path:
        sys.path.insert(0, "")  # like python -m: handlers in the current directory import
    try:
        handler = load_handler(args.handler)
        config = WorkerConfig(
            redis_url=url,
            listname=listname,
            burst=args.burst,
            concurrency=args.concurrency,
            batch_size=args.batch_size,
            retry=RetryPolicy(args.max_attempts, args.backoff_base, args.backoff_max),
            heartbeat_ttl=args.heartbeat_ttl,
            block_timeout=args.block_timeout,
        )
    except (LookupError, ValueError) as error:
        parser.error(str(error))
    stats = run(handler, config, default_status())
    return 1 if stats.cold else 0
