"""The Redis defaults (queue and stream) are named once, in notifier.queue.defaults."""

from __future__ import annotations

import ast

import click

from notifier.cli.source import resolve_source, source_options
from notifier.queue import defaults
from tests.helpers import ROOT

NAMED = {defaults.URL, defaults.LISTNAME, defaults.STREAM, defaults.STREAM_MAXLEN}


def test_no_module_spells_a_queue_default_itself():
    spelled = []
    for path in sorted([*(ROOT / "notifier").rglob("*.py"), *(ROOT / "workers").rglob("*.py")]):
        if path == ROOT / "notifier" / "queue" / "defaults.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Constant) and node.value in NAMED:
                spelled.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value!r}")
    assert spelled == []


def test_the_commands_fall_back_on_the_defaults():
    command = source_options(click.command()(lambda **options: options))
    options = command.main([], standalone_mode=False)
    assert options == {"listener": defaults.LISTENER, "url": None, "listname": None}
    source = resolve_source("app.ini", defaults.LISTENER, "redis://h:6379/0", None)
    assert source.listname == defaults.LISTNAME
