"""``notifier init [INI]``: write a commented INI file with a freshly generated secret.

Like ``kinto init``: the new file runs as it is (``notifier serve``), and its
comments say what to change for production.
"""

from __future__ import annotations

import os
import secrets

import click

from notifier.cli.common import DEFAULT_INI, CommandError, confirm, traceback_option, yes_option

BACKENDS = {
    "sqlite": (
        "notifier.storage.sqlite",
        "var/notifier.sqlite",
        "# The SQLite file, relative to this file's folder; created on first start.",
    ),
    "postgresql": (
        "notifier.storage.postgresql",
        "postgresql://notifier@127.0.0.1:5432/notifier",
        "# PostgreSQL (pip install 'notifier[postgresql]'); create the schema with\n"
        "#   notifier migrate {ini}\n"
        "# before the first start, and again after each upgrade.",
    ),
}

TEMPLATE = """\
# notifier: written by `notifier init` on {backend}.  Serve it with `notifier serve {ini}`.
# Every key can be overridden from the environment: notifier.storage_url is
# NOTIFIER_STORAGE_URL.  All settings: README.md and docs/listeners/README.md.
[app:main]
use = egg:notifier

{storage_comment}
notifier.storage_backend = {module}
notifier.storage_url = {url}

# Keys the Basic-auth user ids: generated for this file.  Keep it secret, and
# keep it: changing it changes every user's id (and so their permissions).
notifier.userid_hmac_secret = {secret}

# Listeners: every write is logged.  To queue record changes for workers
# (`notifier worker {ini} --handler module:function`), add redis:
#   notifier.event_listeners = log redis
#   notifier.event_listeners.redis.use = notifier.listeners.redis
#   notifier.event_listeners.redis.url = redis://127.0.0.1:6379/0
#   notifier.event_listeners.redis.listname = eventqueue
#   notifier.event_listeners.redis.resources = record
# Modules named by `use =` may live in this file's folder.
notifier.event_listeners = log
notifier.event_listeners.log.use = notifier.listeners.log

# Log lines as text (the format below) or as one JSON object each: json.
notifier.log_format = text

[server:main]
use = egg:waitress#main
# 127.0.0.1 serves this machine only; 0.0.0.0 (behind a proxy with TLS) serves others.
host = 127.0.0.1
port = 8888
threads = 4

[loggers]
keys = root, notifier

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARNING
handlers = console

[logger_notifier]
level = INFO
handlers =
qualname = notifier

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

# %(request_id)s: the X-Request-Id of the request a line was written for (- outside one).
[formatter_generic]
format = %(asctime)s %(levelname)-5.5s [%(name)s] [%(request_id)s] %(message)s
"""


def render(ini: str, backend: str, secret: str | None = None) -> str:
    """The INI file's text, with a new secret unless one is given."""
    module, url, comment = BACKENDS[backend]
    return TEMPLATE.format(
        backend=backend,
        ini=ini,
        module=module,
        url=url,
        storage_comment=comment.format(ini=ini),
        secret=secret or secrets.token_urlsafe(32),
    )


def write_ini(ini: str, backend: str) -> None:
    """Write the file, creating its folder; raises CommandError when it cannot."""
    folder = os.path.dirname(os.path.abspath(ini))
    try:
        os.makedirs(folder, exist_ok=True)
        with open(ini, "w", encoding="utf-8") as file:
            file.write(render(ini, backend))
    except OSError as error:
        raise CommandError("INI", f"cannot write it: {error.strerror}", ini) from None


@click.command("init")
@click.argument("ini", default=DEFAULT_INI, required=False, metavar="[INI]")
@click.option(
    "--backend",
    type=click.Choice(sorted(BACKENDS)),
    default="sqlite",
    show_default=True,
    help="Where records are stored.",
)
@yes_option
@traceback_option
def command(ini: str, backend: str, yes: bool) -> None:
    """Write a commented INI file (./app.ini by default) with a fresh secret."""
    if os.path.isdir(ini):
        raise CommandError("INI", "is a folder, not an INI file", ini)
    if os.path.exists(ini):
        confirm(f"{ini} exists: replace it (and its secret)?", yes)
    write_ini(ini, backend)
    click.echo(f"wrote {ini} ({backend}); start it with: notifier serve {ini}")
    if backend == "postgresql":
        click.echo(f"first create the schema with: notifier migrate {ini}")
