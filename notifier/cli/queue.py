"""``notifier-queue``: look into a notifier Redis queue and manage its dead letters.

notifier-queue depth | inflight | workers
notifier-queue dead list [--start N] [--count N]
notifier-queue dead replay [--count N]
notifier-queue dead purge [--count N] --yes
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

import redis

from notifier.queue import protocol as queue
from notifier.queue.connection import connect, redact
from notifier.worker.source import add_source_arguments, source_from_args


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="notifier-queue",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_source_arguments(parser)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("depth", help="messages waiting, and retries pending")
    commands.add_parser("inflight", help="claimed, unacknowledged messages per worker")
    commands.add_parser("workers", help="workers with a live heartbeat")
    dead = commands.add_parser("dead", help="the dead-letter list").add_subparsers(
        dest="dead_command", required=True
    )
    listing = dead.add_parser("list", help="print dead letters as JSON lines, oldest first")
    listing.add_argument("--start", type=int, default=0)
    listing.add_argument("--count", type=int, default=100)
    replay = dead.add_parser("replay", help="push dead letters' messages back on the queue")
    replay.add_argument("--count", type=int, help="oldest N only (default all)")
    purge = dead.add_parser("purge", help="delete dead letters")
    purge.add_argument("--count", type=int, help="oldest N only (default all)")
    purge.add_argument("--yes", action="store_true", help="really delete")
    return parser


def execute(client: redis.Redis, listname: str, args: argparse.Namespace) -> list[str]:
    """The output lines of one command."""
    if args.command == "depth":
        return [
            f"queued {queue.depth(client, listname)}",
            f"delayed {queue.delayed_count(client, listname)}",
            f"dead {client.llen(queue.QueueKeys(listname).dead)}",
        ]
    if args.command == "inflight":
        return [f"{worker} {count}" for worker, count in queue.inflight(client, listname).items()]
    if args.command == "workers":
        live = queue.live_workers(client, listname)
        return [f"{worker} {json.dumps(info, sort_keys=True)}" for worker, info in live.items()]
    if args.dead_command == "list":
        letters = queue.dead_letters(client, listname, args.start, args.count)
        return [letter.to_json() for letter in letters]
    if args.dead_command == "replay":
        return [f"replayed {queue.replay_dead(client, listname, args.count)}"]
    if not args.yes:
        raise SystemExit("notifier-queue: dead purge deletes messages; add --yes")
    return [f"purged {queue.purge_dead(client, listname, args.count)}"]


def main(argv: Sequence[str] | None = None) -> int:
    """The ``notifier-queue`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    url, listname = source_from_args(parser, args)
    client = connect(url, socket_timeout=5.0)
    try:
        lines = execute(client, listname, args)
    except redis.RedisError as error:
        print(f"notifier-queue: redis at {redact(url)}: {error}", file=sys.stderr)
        return 1
    finally:
        client.close()
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
