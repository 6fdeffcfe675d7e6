"""``notifier migrate [INI]``: create or upgrade the storage schema of the INI's backend."""

from __future__ import annotations

import click

from notifier.cli.common import app_settings, ini_argument, traceback_option
from notifier.storage.migrate import migrate


@click.command("migrate")
@ini_argument
@click.option("--name", default="main", show_default=True, help="The [app:NAME] section.")
@traceback_option
def command(ini: str, name: str) -> None:
    """Create or upgrade the storage schema (PostgreSQL); SQLite needs nothing.

    Each migration applied is one line; all of them run in one transaction.
    """
    for line in migrate(app_settings(ini, name)):
        click.echo(line)
