"""``python -m notifier.push app.ini``: run the push service of an INI file.

Prints one line naming the address it serves (the real port when
``notifier.push.port = 0``), and stops cleanly on SIGINT or SIGTERM.  A bad
setting is one line on stderr and exit status 1.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Coroutine, Iterable
from typing import Any

import redis.asyncio as aioredis
from aiohttp import web

from notifier.logs.setup import apply_log_format, log_format_of
from notifier.permissions import readable
from notifier.push.app import make_app
from notifier.push.auth import BasicPolicies
from notifier.push.config import PushConfig, push_config, settings_from_ini
from notifier.push.hub import Check, Hub
from notifier.queue.connection import redact
from notifier.settings import SettingsError
from notifier.storage import Storage, load_storage

log = logging.getLogger("notifier.push")


def build(config: PushConfig, storage: Storage) -> web.Application:
    """The application, its hub and its Redis client, from checked settings."""
    client = aioredis.Redis.from_url(config.url, socket_timeout=5, socket_connect_timeout=5)

    def checker(checks: Iterable[Check]) -> dict[Check, bool]:
        return readable(storage, checks)

    hub = Hub(
        client,
        config.stream,
        config.retention,
        config.recheck_seconds,
        checker,
        config.keepalive_seconds,
    )
    policies = BasicPolicies(config.auth_policies, config.secret, storage)
    if policies.unknown:
        log.warning(
            "push: notifier.auth_policies names %s, which only the API runs: Basic headers"
            " are refused here, clients subscribe with tokens",
            ", ".join(policies.unknown),
        )
    app = make_app(config, hub, policies)

    async def close_client(app: web.Application) -> None:
        await client.aclose()

    app.on_cleanup.append(close_client)
    return app


async def serve(config: PushConfig, storage: Storage) -> None:
    """Serve until SIGINT or SIGTERM."""
    runner = web.AppRunner(build(config, storage), handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, config.host, config.port, backlog=4096)
    await site.start()
    host, port = runner.addresses[0][:2]
    print(
        f"push: serving http://{host}:{port} (stream {config.stream!r} on {redact(config.url)})",
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await runner.cleanup()


def run(main: Coroutine[Any, Any, None]) -> None:
    """Run on uvloop where it is installed (not on Windows): a delivery to one
    subscriber costs about a third less CPU than on asyncio's own loop (bench/push.md)."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
        return
    uvloop.run(main)


def serve_ini(ini: str) -> None:
    """Serve the push service of ``ini`` until SIGINT or SIGTERM.

    Raises SettingsError for a bad setting, before serving anything.
    """
    settings = settings_from_ini(ini)
    apply_log_format(log_format_of(settings))
    config = push_config(settings)
    storage = load_storage(config.settings)
    try:
        run(serve(config, storage))
    finally:
        storage.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m notifier.push", description=__doc__)
    parser.add_argument("ini", nargs="?", default="app.ini", help="the INI file (app.ini)")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)-5.5s [%(name)s] %(message)s"
    )
    try:
        serve_ini(args.ini)
    except SettingsError as error:
        print(f"notifier push: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
