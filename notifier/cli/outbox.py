"""``notifier-outbox``: inspect the outbox, replay or purge dead letters, run a relay.

notifier-outbox app.ini stats
notifier-outbox app.ini dead [--limit N]
notifier-outbox app.ini replay [--listener NAME]
notifier-outbox app.ini purge [--listener NAME]
notifier-outbox app.ini relay [--once]
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from typing import Any

from notifier import configure_from_ini
from notifier.delivery.relay import Relay, now_ms
from notifier.storage import Storage, transaction

log = logging.getLogger(__name__)


def _stats(storage: Storage, args: argparse.Namespace) -> Any:
    with transaction(storage, write=False) as session:
        stats = session.outbox_stats()
    return {
        "backlog": stats.backlog,
        "oldest_created_at": stats.oldest_created_at,
        "dead": stats.dead,
    }


def _dead(storage: Storage, args: argparse.Namespace) -> Any:
    with transaction(storage, write=False) as session:
        entries = session.outbox_dead(args.limit)
    return [
        {
            "event_id": e.event_id,
            "listener": e.listener,
            "attempts": e.attempts,
            "last_error": e.last_error,
            "created_at": e.created_at,
            "message": json.loads(e.message),
        }
        for e in entries
    ]


def _replay(storage: Storage, args: argparse.Namespace) -> Any:
    with transaction(storage) as session:
        return {"replayed": session.outbox_replay(args.listener, now_ms())}


def _purge(storage: Storage, args: argparse.Namespace) -> Any:
    with transaction(storage) as session:
        return {"purged": session.outbox_purge(args.listener)}


def _relay(relay: Relay, interval: float, once: bool) -> Any:
    if once:
        return {"delivered": relay.run_once()}
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    log.info("outbox relay running, every %gs at most; SIGTERM or Ctrl-C stops it", interval)
    relay.run_forever(stop, interval)
    return None


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="notifier-outbox",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("ini", help="the app's INI file")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("stats", help="backlog, age of the oldest entry, dead letters")
    dead = commands.add_parser("dead", help="list dead letters as JSON")
    dead.add_argument("--limit", type=int, default=100)
    for name in ("replay", "purge"):
        command = commands.add_parser(name, help=f"{name} dead letters")
        command.add_argument("--listener", default=None, help="only this listener's")
    relay = commands.add_parser("relay", help="run the relay in this process")
    relay.add_argument("--once", action="store_true", help="one round, then exit")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    registry = configure_from_ini(args.ini).registry
    if args.command == "relay":
        result = _relay(registry.notifier_relay, registry.notifier_relay_interval, args.once)
    else:
        handlers = {"stats": _stats, "dead": _dead, "replay": _replay, "purge": _purge}
        result = handlers[args.command](registry.notifier_storage, args)
    if result is not None:
        json.dump(result, sys.stdout, indent=2)
        sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
