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


def warn(depth: int) -> None:
    logging.getLogger(LOGGER).warning("Task queue depth is %d", depth)


def test_one_warning_per_interval_says_how_many_it_stands_for(throttled, caplog):
    for depth in range(1, 6):
        warn(depth)
    throttled.now += 9.9
    warn(6)
    throttled.now += 0.1
    warn(7)
    assert caplog.messages == [
        "Task queue depth is 1",
        "Task queue depth is 7 (and 5 more in the last 10s)",
    ]


def test_a_quiet_interval_lets_the_next_warning_through_as_it_is(throttled, caplog):
    warn(1)
    throttled.now += 60
    warn(2)
    assert caplog.messages == ["Task queue depth is 1", "Task queue depth is 2"]


def test_throttle_queue_warnings_filters_waitress_queue_logger():
    logger = logging.getLogger(LOGGER)
    throttle = throttle_queue_warnings()
    try:
        assert throttle in logger.filters
    finally:
        logger.removeFilter(throttle)
