"""Waitress's queue-depth warning, throttled to one per interval."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from notifier.waitress_queue_log import LOGGER, QueueWarningThrottle, throttle_queue_warnings


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def throttled(caplog: pytest.LogCaptureFixture) -> Iterator[Clock]:
    clock = Clock()
    throttle = QueueWarningThrottle(interval=10.0, clock=clock)
    logger = logging.getLogger(LOGGER)
    logger.addFilter(throttle)
    caplog.set_level(logging.WARNING, logger=LOGGER)
    yield clock
    logger.removeFilter(throttle)


def test_one_warning_per_interval_says_how_many_it_stands_for(throttled, caplog):
    logger = logging.getLogger(LOGGER)
    for depth in range(1, 6):
        logger.warning("Task queue depth is %d", depth)
    throttled.now += 9.9
    logger.warning("Task queue depth is %d", 6)
    throttled.now += 0.1
    logger.warning("Task queue depth is %d", 7)
    assert [record.getMessage() for record in caplog.records] == [
        "Task queue depth is 1",
        "Task queue depth is 7 (and 5 more in the last 10s)",
    ]


def test_a_quiet_interval_lets_the_next_warning_through_as_it_is(throttled, caplog):
    logger = logging.getLogger(LOGGER)
    logger.warning("Task queue depth is %d", 1)
    throttled.now += 60
    logger.warning("Task queue depth is %d", 2)
    assert [record.getMessage() for record in caplog.records] == [
        "Task queue depth is 1",
        "Task queue depth is 2",
    ]


def test_throttle_queue_warnings_filters_waitress_queue_logger():
    logger = logging.getLogger(LOGGER)
    throttle = throttle_queue_warnings()
    try:
        assert throttle in logger.filters
    finally:
        logger.removeFilter(throttle)
