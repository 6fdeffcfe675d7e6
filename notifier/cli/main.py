"""The ``notifier`` group: finds subcommands by name, and turns expected errors into one line.

Subcommands load lazily from ``SUBCOMMANDS``, so ``notifier --help`` and
shell completion import neither Pyramid nor a storage driver.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

import click

from notifier import __version__

#: name -> "module:attribute" of a click command.  Adding a subcommand is one line here.
SUBCOMMANDS: dict[str, str] = {
    "init": "notifier.cli.init:command",
    "serve": "notifier.cli.serve:command",
    "migrate": "notifier.cli.migrate:command",
    "worker": "notifier.cli.worker:command",
    "queue": "notifier.cli.queue:group",
    "outbox": "notifier.cli.outbox:group",
    "email-test": "notifier.cli.email_test:command",
    "webhook-test": "notifier.cli.webhook:test_command",
    "webhook-status": "notifier.cli.webhook:status_command",
    "webhook-enable": "notifier.cli.webhook:enable_command",
    "push": "notifier.cli.push:command",
}


class LazyGroup(click.Group):
    """A group whose commands are imported when used, from ``SUBCOMMANDS``."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*SUBCOMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        target = SUBCOMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, _, attribute = target.partition(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{target} is a {type(command).__name__}, not a click command")
        return command

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """As click's, with "did you mean" for a mistyped subcommand."""
        name = args[0] if args else ""
        if args and self.get_command(ctx, name) is None and not name.startswith("-"):
            from notifier.settings import suggestion

            hint = suggestion(name, self.list_commands(ctx))
            raise click.UsageError(f"no such command {name!r}{hint}", ctx)
        return super().resolve_command(ctx, args)


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option("--traceback", is_flag=True, help="Show the stack of an error, not just its line.")
@click.version_option(__version__, prog_name="notifier")
def cli(traceback: bool) -> None:
    """notifier: a Kinto-compatible record service whose writes notify listeners.

    Every subcommand reads the INI file given after it, ./app.ini by default:
    notifier SUBCOMMAND [INI] [options].
    """


def main(argv: Sequence[str] | None = None) -> int:
    """The console script: run ``cli``; an expected failure prints one line and returns 1."""
    from notifier.cli.errors import expected_errors, one_line

    args = list(sys.argv[1:] if argv is None else argv)
    try:
        result = cli.main(args, prog_name="notifier", standalone_mode=False)
    except click.Abort:
        click.echo("notifier: aborted", err=True)
        return 1
    except click.ClickException as error:
        click.echo(f"notifier: {one_line(error)}", err=True)
        return error.exit_code
    except expected_errors() as error:
        if "--traceback" in args:
            raise
        click.echo(f"notifier: {one_line(error)}", err=True)
        return 1
    return result if isinstance(result, int) else 0
