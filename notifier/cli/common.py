"""What every subcommand shares: the INI argument, one-line errors, confirmation, progress.

An expected failure is a ``CommandError`` (or a ``SettingsError``, or a
``StorageError``); the group prints it as one line,
``notifier: <key or thing>: <problem> (got <value>)``, and exits 1.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click

from notifier.settings import SettingsError

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_INI = "app.ini"


class CommandError(SettingsError):
    """An expected failure of a command: what, the problem, and the value it got.

    A SettingsError, so that it reads the same as a bad setting does.
    """


class Failure(Exception):
    """An expected failure whose message already names what failed (printed as it is)."""


def read_ini(path: str) -> str:
    """The INI's absolute path, its folder put first on ``sys.path``.

    The folder goes on the import path so that a ``use =`` module or a worker
    handler next to the INI imports, as a tutorial's reader expects.  Raises
    CommandError when the file is missing or unreadable.
    """
    absolute = os.path.abspath(path)
    if not os.path.exists(absolute):
        raise CommandError("INI", "no such file", path)
    if os.path.isdir(absolute):
        raise CommandError("INI", "is a folder, not an INI file", path)
    if not os.access(absolute, os.R_OK):
        raise CommandError("INI", "cannot read it (permission denied)", path)
    folder = os.path.dirname(absolute)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    return absolute


@contextmanager
def reading(ini: str) -> Iterator[None]:
    """Turn PasteDeploy's errors about the INI's content into one line naming the INI."""
    import configparser

    try:
        yield
    except LookupError as error:
        if type(error) is not LookupError:
            raise  # a KeyError from inside the app is a bug to show, not a message
        problem = str(error.args[0] if error.args else error).rstrip(".")
        raise CommandError("INI", problem, ini) from None
    except configparser.Error as error:
        problem = "not an INI file: " + " ".join(error.message.split())
        raise CommandError("INI", problem, ini) from None


def app_settings(ini: str, name: str = "main") -> dict[str, Any]:
    """The settings of the INI's ``[app:NAME]`` as the app sees them (defaults, environment)."""
    from pyramid.paster import get_appsettings

    from notifier.settings import load_settings

    path = read_ini(ini)
    with reading(ini):
        return load_settings(get_appsettings(path, name=name))


class DefaultGroup(click.Group):
    """A group that runs ``default`` when no subcommand is named.

    ``notifier queue``, ``notifier queue other.ini --watch`` and ``notifier
    queue depth other.ini --watch`` are then the same command, as users of
    ``rq info`` expect.  A mistyped subcommand still gets "did you mean".
    """

    def __init__(self, *args: Any, default: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.default = default

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        first = args[0] if args else ""
        if first in self.commands or first in ctx.help_option_names:
            return super().parse_args(ctx, args)
        if first and not first.startswith("-") and not os.path.exists(first):
            from notifier.settings import suggestion

            hint = suggestion(first, self.commands)
            if hint:
                raise click.UsageError(f"no such command {first!r}{hint}", ctx)
        return super().parse_args(ctx, [self.default, *args])


def ini_argument(function: F) -> F:
    """The optional INI argument every subcommand takes, defaulting to ./app.ini."""
    return click.argument(
        "ini", default=DEFAULT_INI, required=False, metavar="[INI]", type=click.Path()
    )(function)


def traceback_option(function: F) -> F:
    """``--traceback`` after a subcommand, the same as before it (``notifier.cli.main``)."""
    return click.option(
        "--traceback",
        is_flag=True,
        expose_value=False,
        help="Show the stack of an error, not just its line.",
    )(function)


def yes_option(function: F) -> F:
    return click.option("--yes", "-y", is_flag=True, help="Do it without asking.")(function)


def confirm(question: str, yes: bool) -> None:
    """Ask ``question`` on a terminal; without one, and without ``--yes``, refuse at once.

    CI and cron have no stdin to answer: waiting there would hang the job.
    """
    if yes:
        return
    if not sys.stdin.isatty():
        raise CommandError("--yes", f"{question} needs a terminal to confirm, or --yes")
    if not click.confirm(question, default=False, err=True):
        raise CommandError("--yes", "not confirmed: nothing done")


def on_terminal() -> bool:
    return sys.stderr.isatty()


@contextmanager
def progress(label: str, total: int) -> Iterator[Callable[[int], None]]:
    """Report ``advance(n)`` steps: a bar on a terminal, a plain line per step otherwise."""
    if on_terminal():
        with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
            yield bar.update
        return
    done = 0

    def advance(steps: int) -> None:
        nonlocal done
        done += steps
        click.echo(f"{label}: {done}/{total}", err=True)

    yield advance
