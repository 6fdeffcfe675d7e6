"""``--watch``: figures sampled every few seconds, redrawn in place on a terminal.

Off a terminal (a log file, a pipe) each sample is one plain line, so the
output stays readable by grep and by people.  Ctrl-C ends the watch.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_INTERVAL = 2.0
#: Cursor home, then clear to the end of the screen.
REDRAW = "\x1b[H\x1b[J"


@dataclass
class Sample:
    """Figures at one moment."""

    figures: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


def watch_options(function: F) -> F:
    return click.option(
        "--watch",
        "watch_seconds",
        type=click.FloatRange(min=0.1),
        is_flag=False,
        flag_value=DEFAULT_INTERVAL,
        default=None,
        metavar="[SECONDS]",
        help=f"Refresh every SECONDS ({DEFAULT_INTERVAL:g} when omitted) until Ctrl-C.",
    )(function)


def rates_since(previous: Sample | None, current: Sample, names: Iterable[str]) -> dict[str, float]:
    """Change per second of each named figure since ``previous``."""
    if previous is None or current.at <= previous.at:
        return {}
    seconds = current.at - previous.at
    found = {}
    for name in names:
        before, now = previous.figures.get(name), current.figures.get(name)
        if isinstance(before, int | float) and isinstance(now, int | float):
            found[f"{name}_per_s"] = round((now - before) / seconds, 1)
    return found


def render(title: str, figures: dict[str, Any], terminal: bool) -> str:
    if not terminal:
        stamp = time.strftime("%H:%M:%S")
        return f"{stamp} " + " ".join(f"{name}={value}" for name, value in figures.items())
    width = max(len(name) for name in figures) if figures else 0
    rows = [f"{name.ljust(width)}  {value}" for name, value in figures.items()]
    clock = time.strftime("%H:%M:%S")
    return REDRAW + f"{title}  ({clock}, Ctrl-C to stop)\n\n" + "\n".join(rows)


def watch(
    title: str,
    sample: Callable[[], Sample],
    interval: float,
    rates: Iterable[str] = (),
    terminal: bool | None = None,
) -> None:
    """Print ``sample()`` every ``interval`` seconds, with rates of change, until Ctrl-C."""
    terminal = sys.stdout.isatty() if terminal is None else terminal
    names = tuple(rates)
    previous: Sample | None = None
    try:
        while True:
            current = sample()
            figures = {**current.figures, **rates_since(previous, current, names)}
            click.echo(render(title, figures, terminal))
            previous = current
            time.sleep(max(0.0, interval - (time.monotonic() - current.at)))
    except KeyboardInterrupt:
        return
