"""The ``notifier`` command (click): ``notifier SUBCOMMAND [INI] [options]``.

The top of the import graph: may import anything in ``notifier``; nothing
imports it.  ``main.py`` holds the group, one module per subcommand (or
group of subcommands) holds its click command, and the work itself lives in
plain functions beside it that other code and tests call directly
(``serve.serve``, ``outbox.replay``, ``queue.purge``...).

Adding a subcommand is one line: write a module with a click command, as
``notifier/cli/webhook.py`` has ``test_command = click.command("webhook-test")(...)``,
then add ``"webhook-test": "notifier.cli.webhook:test_command"`` to
``SUBCOMMANDS`` in ``notifier/cli/main.py``.  Take the INI with
``@ini_argument`` and ``read_ini``, raise ``CommandError(thing, problem,
value)`` (or let a ``SettingsError`` through) for an expected failure, ask
with ``confirm(question, yes)`` before destroying anything, and report long
work with ``progress(label, total)``: all in ``notifier.cli.common``.

Imported only by: ``notifier.cli`` (and the tests).
"""
