"""``notifier serve --processes N``: N app processes on one port, for PostgreSQL.

One Python process runs one thread at a time, so a create-heavy server on
PostgreSQL tops out below what the cores and the database could do; several
processes lift that.  The parent binds the port once, checks the INI by
building the app and closing it again (a bad setting is one line here, not N
children failing in turn), then starts N children.  Each child is a fresh
interpreter (``notifier serve INI --listen-fd FD``, fork and exec) that
inherits only the listening socket and builds everything else itself: the
psycopg pool and its LISTEN connection, the relay thread, the listeners'
Redis clients.  No thread, pool or connection can cross a fork, since no
app is ever built before one.  The kernel gives each new connection to the
child that accepts it first.

Why waitress children and not gunicorn: the server, its limits (the body
limit refused before reading) and its behaviour stay those of one process,
and nothing is added to install.  The children are supervised like the dev
server's workers (restarted with backoff when they die); SIGTERM or Ctrl-C
to the parent stops them all.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import Mapping
from contextlib import ExitStack
from typing import Any

from notifier.cli.common import CommandError, reading
from notifier.settings import as_list

log = logging.getLogger("notifier.cli.serve")

MAX_PROCESSES = 64
#: The listening socket's queue of connections no child has accepted yet (waitress's default).
BACKLOG = 1024
#: How long a child may take to stop (its relay round, its listeners' clients) before SIGKILL.
STOP_TIMEOUT = 15.0
SQLITE = "notifier.storage.sqlite"
PROMETHEUS_PLUGIN = "notifier.plugins.prometheus"
#: prometheus_client's multiprocess mode: every process writes its samples here.
MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"


def check_processes(key: str, raw: object) -> int:
    """A number of processes, 1..MAX_PROCESSES; raises CommandError naming ``key``."""
    text = str(raw).strip()
    if not (text.isascii() and text.isdigit() and 1 <= int(text) <= MAX_PROCESSES):
        raise CommandError(key, f"expected an integer from 1 to {MAX_PROCESSES}", raw)
    return int(text)


def refuse_sqlite(settings: Mapping[str, Any], processes: int) -> None:
    """More than one process on SQLite: refused, since writes would only queue.

    SQLite lets one connection write at a time; across processes a writer
    waits in SQLite's busy handler (sleeps of up to 100 ms, 5 s at most), so
    N processes write no faster than one, with a far worse tail.
    """
    backend = settings.get("notifier.storage_backend")
    if processes > 1 and backend == SQLITE:
        raise CommandError(
            "--processes",
            f"more than one process needs notifier.storage_backend ="
            f" notifier.storage.postgresql; {backend} lets one process write at a time",
            processes,
        )


def checked_settings(ini: str) -> dict[str, Any]:
    """The app's settings once it is built; the app is closed again at once.

    Raises what building the app raises (a SettingsError naming the key, a
    StorageError when the database does not answer).
    """
    from notifier import shutdown
    from notifier.app import configure_from_ini

    with reading(ini):
        config = configure_from_ini(ini)
    shutdown(config.registry)
    return dict(config.get_settings())


def metrics_environment(
    stack: ExitStack, settings: Mapping[str, Any], processes: int
) -> dict[str, str]:
    """``PROMETHEUS_MULTIPROC_DIR`` for the children when the prometheus plugin is on.

    prometheus_client's multiprocess mode wants an empty directory, made
    before the children start and wiped between runs: a temporary one,
    removed when the server stops.  A directory the environment names is
    used as it is.
    """
    plugins = as_list(settings.get("notifier.includes", ""))
    if processes < 2 or os.environ.get(MULTIPROC_DIR) or PROMETHEUS_PLUGIN not in plugins:
        return {}
    folder = tempfile.mkdtemp(prefix="notifier-prometheus-")
    stack.callback(shutil.rmtree, folder, ignore_errors=True)
    return {MULTIPROC_DIR: folder}


def bind(host: str, port: int) -> socket.socket:
    """The listening socket every child shares; a port in use is one line."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        return socket.create_server((host, port), family=family, backlog=BACKLOG)
    except OSError as error:
        problem = f"cannot listen on {host}: {error.strerror or error}"
        raise CommandError("port", problem, port) from None


def serve_processes(ini: str, host: str, port: int, processes: int, stack: ExitStack) -> None:
    """Check the INI, bind, start ``processes`` children and supervise them until a signal."""
    from notifier.dev.children import Supervised, extend_pythonpath, stop_all

    settings = checked_settings(ini)
    refuse_sqlite(settings, processes)
    listener = bind(host, port)
    stack.callback(listener.close)
    fd = listener.fileno()
    environ = {**os.environ, **metrics_environment(stack, settings, processes)}
    env = extend_pythonpath(environ, [os.path.dirname(ini), os.getcwd()])
    command = [sys.executable, "-m", "notifier.cli", "serve", ini, "--listen-fd", str(fd)]
    children = [
        Supervised(f"app process {number}", command, env, pass_fds=(fd,))
        for number in range(1, processes + 1)
    ]
    stack.callback(stop_all, children, STOP_TIMEOUT)
    for child in children:
        child.start()
    log.info("notifier listening on http://%s:%s/v1/ (%d processes)", host, port, processes)
    wait_for_stop()
    log.info("stopping %d app processes", processes)


def wait_for_stop() -> None:
    """Sleep until Ctrl-C or SIGTERM (which ``serve`` turns into SystemExit)."""
    try:
        while True:
            signal.pause()
    except (KeyboardInterrupt, SystemExit):
        return
