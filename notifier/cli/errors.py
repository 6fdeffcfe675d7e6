"""Which errors are expected, and how each becomes one line."""

from __future__ import annotations

import click
import redis

from notifier.cli.common import Failure
from notifier.settings import SettingsError
from notifier.storage import StorageError


def expected_errors() -> tuple[type[Exception], ...]:
    """Failures a user can fix from the message alone: no stack unless ``--traceback``."""
    return (SettingsError, StorageError, redis.RedisError, Failure)


def one_line(error: Exception) -> str:
    """The error's message on one line, naming the option for a bad parameter."""
    if isinstance(error, click.BadParameter) and error.param is not None:
        names = error.param.opts or [error.param.human_readable_name]
        text = f"{max(names, key=len)}: {error.message}"
    elif isinstance(error, click.ClickException):
        text = error.format_message()
    elif isinstance(error, redis.RedisError):
        text = f"redis: {error}"
    else:
        text = str(error)
    return " ".join(part.strip() for part in text.splitlines() if part.strip())
