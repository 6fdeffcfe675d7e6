"""Where a command-line tool finds its queue: ``--url/--listname`` or ``--ini/--listener``."""

from __future__ import annotations

import argparse
import logging

from notifier.queue import defaults
from notifier.queue.connection import check_url
from notifier.settings import SettingsError
from notifier.worker.config import WorkerConfig


def add_source_arguments(parser: argparse.ArgumentParser) -> None:
    where = parser.add_argument_group("queue (either --url/--listname or --ini/--listener)")
    where.add_argument("--url", help=f"Redis URL (default {defaults.URL})")
    where.add_argument(
        "--listname", help=f"the list the listener pushes to (default {defaults.LISTNAME})"
    )
    where.add_argument("--ini", help="read the URL and list of a Redis listener from this INI")
    where.add_argument(
        "--listener",
        default=defaults.LISTENER,
        help=f"the listener's name in notifier.event_listeners (default {defaults.LISTENER})",
    )


def source_from_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> tuple[str, str]:
    """(redis_url, listname); exits with a usage error naming the bad setting."""
    if args.ini and (args.url or args.listname):
        parser.error("give either --ini/--listener or --url/--listname, not both")
    try:
        if args.ini:
            config = WorkerConfig.from_ini(args.ini, args.listener)
            return config.redis_url, config.listname
        url = check_url("--url", args.url or defaults.URL)
    except (SettingsError, OSError, LookupError) as error:
        parser.error(str(error))
    return url, args.listname or defaults.LISTNAME


def setup_logging(verbosity: int) -> None:
    level = {0: logging.INFO, 1: logging.DEBUG}.get(verbosity, logging.WARNING)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
