"""Waitress's queue-depth warning, throttled to one per interval before any record is made."""

from __future__ import annotations

import logging

import pytest
from waitress.task import ThreadedTaskDispatcher

from notifier.cli.waitress_queue_log import LOGGER, ThrottledQueueLogger, throttle_queue_warnings


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class CountRecords(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self.seen = 0

    def filter(self, record: logging.LogRecord) -> bool:
        self.seen += 1
        return True


@pytest.fixture
def records(caplog: pytest.LogCaptureFixture):
    counter = CountRecords()
    logger = logging.getLogger(LOGGER)
    logger.addFilter(counter)
    caplog.set_level(logging.WARNING, logger=LOGGER)
    yield counter
    logger.removeFilter(counter)


def test_one_warning_per_interval_says_how_many_it_stands_for(records, caplog):
    clock = Clock()
    throttle = ThrottledQueueLogger(logging.getLogger(LOGGER), interval=10.0, clock=clock)
    for depth in range(1, 6):
        throttle.warning("Task queue depth is %d", depth)
    clock.now += 9.9
    throttle.warning("Task queue depth is %d", 6)
    clock.now += 0.1
    throttle.warning("Task queue depth is %d", 7)
    assert caplog.messages == [
        "Task queue depth is 1",
        "Task queue depth is 7 (and 5 more in the last 10s)",
    ]
    assert records.seen == 2  # the held-back warnings never became records


def test_a_quiet_interval_lets_the_next_warning_through_as_it_is(records, caplog):
    clock = Clock()
    throttle = ThrottledQueueLogger(logging.getLogger(LOGGER), interval=10.0, clock=clock)
    throttle.warning("Task queue depth is %d", 1)
    clock.now += 60
    throttle.warning("Task queue depth is %d", 2)
    assert caplog.messages == ["Task queue depth is 1", "Task queue depth is 2"]


def test_waitress_dispatchers_warn_through_the_throttle(records, caplog, monkeypatch):
    monkeypatch.setattr(ThreadedTaskDispatcher, "queue_logger", ThreadedTaskDispatcher.queue_logger)
    throttle = throttle_queue_warnings()
    dispatcher = ThreadedTaskDispatcher()  # no threads: every task queues
    for _ in range(3):
        dispatcher.add_task(object())
    assert dispatcher.queue_logger is throttle
    assert caplog.messages == ["Task queue depth is 1"]
    assert records.seen == 1
    assert throttle.name == LOGGER  # other attributes are the logger's
