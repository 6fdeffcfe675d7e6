"""Progress and ``--watch``: a bar or a redrawn screen on a terminal, plain lines elsewhere."""

from __future__ import annotations

import io

from notifier.cli.watch import REDRAW, Sample, rates_since, render
from notifier.worker.status import TtyStatus, WorkerStats, bar


def test_the_burst_bar_fills_with_what_is_done():
    assert bar(0, 10) == "[" + "-" * 20 + "]"
    assert bar(5, 10) == "[" + "#" * 10 + "-" * 10 + "]"
    assert bar(10, 10) == bar(0, 0) == "[" + "#" * 20 + "]"


def test_a_worker_on_a_terminal_redraws_one_line_with_its_bar():
    stream = io.StringIO()
    stats = WorkerStats(processed=3)
    TtyStatus(stream).report("w", stats, depth=1)
    assert stream.getvalue().startswith("\r\x1b[Kw: [" + "#" * 15 + "-" * 5 + "] processed 3 ")
    assert stream.getvalue().endswith("depth 1")


def test_watch_figures_with_rates_on_a_terminal_and_off_it():
    before = Sample({"queued": 10, "dead": 1}, at=100.0)
    after = Sample({"queued": 4, "dead": 1}, at=102.0)
    figures = {**after.figures, **rates_since(before, after, ("queued", "dead"))}
    assert figures == {"queued": 4, "dead": 1, "queued_per_s": -3.0, "dead_per_s": 0.0}
    screen = render("queue", figures, terminal=True)
    assert screen.startswith(REDRAW + "queue  (")
    assert screen.endswith(
        "queued        4\ndead          1\nqueued_per_s  -3.0\ndead_per_s    0.0"
    )
    line = render("queue", figures, terminal=False)
    assert line.endswith(" queued=4 dead=1 queued_per_s=-3.0 dead_per_s=0.0")
    assert "\x1b" not in line
