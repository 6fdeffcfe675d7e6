"""The queue's defaults are named once, in notifier.queue.defaults."""

from __future__ import annotations

import argparse
import ast

from notifier.queue import defaults
from notifier.worker.source import add_source_arguments, source_from_args
from tests.helpers import ROOT

NAMED = {defaults.URL: "URL", defaults.LISTNAME: "LISTNAME"}


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
    parser = argparse.ArgumentParser()
    add_source_arguments(parser)
    args = parser.parse_args([])
    assert source_from_args(parser, args) == (defaults.URL, defaults.LISTNAME)
    assert args.listener == defaults.LISTENER
