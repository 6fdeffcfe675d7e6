"""``notifier.log_format``: read it, and apply it to the handlers logging already has.

The INI's ``[loggers]``/``[handlers]`` sections (or a command's own basic
set-up) decide where lines go and at what level; this only adds to the
handlers they made: the request-id filter always, and with ``json`` the
JSON formatter in place of theirs.  So it runs once logging is configured,
at the start of each process (server, relay, worker, push service), before
the app logs anything: a format that names ``%(request_id)s`` (app.ini's
does) needs the filter on its handler.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any

from notifier.logs.records import JsonFormatter, RequestIdFilter
from notifier.settings import Section

KEY = "log_format"
#: The accepted values, the default first.
LOG_FORMATS = ("text", "json")


def log_format_of(settings: Mapping[str, Any]) -> str:
    """The checked ``notifier.log_format``; raises SettingsError naming the key, value and words."""
    return Section(settings, "notifier.").one_of(KEY, LOG_FORMATS, LOG_FORMATS[0])


def configured_handlers() -> Iterator[logging.Handler]:
    """Each handler of the root logger and of every logger created so far, once."""
    loggers: list[logging.Logger] = [logging.getLogger()]
    loggers += [
        each
        for each in logging.Logger.manager.loggerDict.values()
        if isinstance(each, logging.Logger)
    ]
    seen: set[int] = set()
    for logger in loggers:
        for handler in logger.handlers:
            if id(handler) not in seen:
                seen.add(id(handler))
                yield handler


def apply_log_format(log_format: str) -> None:
    """Give every configured handler the request-id filter and, for ``json``, the JSON formatter.

    Safe to call again: a handler gets the filter once.
    """
    for handler in configured_handlers():
        if not any(isinstance(each, RequestIdFilter) for each in handler.filters):
            handler.addFilter(RequestIdFilter())
        if log_format == "json":
            handler.setFormatter(JsonFormatter())
