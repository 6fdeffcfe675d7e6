"""Where a queue command finds its queue: a Redis listener of the INI, or ``--url/--listname``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import click
import redis

from notifier.cli.common import DEFAULT_INI, CommandError, app_settings
from notifier.queue import defaults
from notifier.queue.connection import check_url, connect, redact
from notifier.settings import Section

F = TypeVar("F", bound=Callable[..., Any])

#: The Redis listener's own default (docs/listeners/README.md).
DEFAULT_SOCKET_TIMEOUT = 2.0


@dataclass(frozen=True)
class Source:
    """A queue: its Redis URL, its list, and how long a Redis reply may take."""

    url: str
    listname: str
    socket_timeout: float = DEFAULT_SOCKET_TIMEOUT

    def client(self) -> redis.Redis:
        return connect(self.url, socket_timeout=self.socket_timeout)

    def describe(self) -> str:
        return f"{redact(self.url)} list {self.listname!r}"


def source_options(function: F) -> F:
    """``--listener`` (the INI's Redis listener), or ``--url`` and ``--listname`` instead."""
    options = [
        click.option(
            "--listener",
            default=defaults.LISTENER,
            show_default=True,
            help="The Redis listener of the INI whose queue to use.",
        ),
        click.option("--url", help="A Redis URL, instead of the INI's listener."),
        click.option("--listname", help=f"With --url: the list (default {defaults.LISTNAME})."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def resolve_source(ini: str, listener: str, url: str | None, listname: str | None) -> Source:
    """The queue the options name; raises CommandError or SettingsError naming what is wrong."""
    if url is None:
        if listname is not None:
            raise CommandError("--listname", "goes with --url; the INI's listener names its list")
        return source_from_ini(ini, listener)
    if ini != DEFAULT_INI:
        raise CommandError("--url", "give either an INI file or --url, not both", url)
    return Source(check_url("--url", url), listname or defaults.LISTNAME)


def source_from_ini(ini: str, listener: str) -> Source:
    """The queue of the INI's Redis listener ``listener``, with its socket timeout."""
    settings = app_settings(ini)
    section = Section(settings, f"notifier.event_listeners.{listener}.")
    url = check_url(section.key("url"), section.str("url"))
    return Source(
        url,
        section.str("listname", defaults.LISTNAME),
        section.float("socket_timeout", DEFAULT_SOCKET_TIMEOUT, minimum=0.001),
    )


def unreachable(source: Source, error: redis.RedisError) -> CommandError:
    """The one line for a Redis that does not answer."""
    return CommandError(f"redis at {redact(source.url)}", str(error).rstrip("."))
