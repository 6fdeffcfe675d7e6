"""One retry policy for the outbox relay and the worker runtime."""

from __future__ import annotations

import dataclasses
import time

import pytest

from notifier.delivery.relay import retry_at
from notifier.queue.protocol import QueueKeys
from notifier.retry import RetryPolicy, backoff_delay
from notifier.settings import Section, SettingsError
from notifier.worker.config import WORKER_RETRY, WorkerConfig
from notifier.worker.consumer import Consumer
from tests.helpers import make_event


def test_backoff_doubles_with_equal_jitter_up_to_the_cap():
    assert [backoff_delay(n, 1.0, 5.0, rand=lambda: 0.0) for n in range(1, 6)] == [
        0.5,
        1.0,
        2.0,
        2.5,
        2.5,
    ]
    assert [backoff_delay(n, 1.0, 5.0, rand=lambda: 1.0) for n in range(1, 6)] == [
        1.0,
        2.0,
        4.0,
        5.0,
        5.0,
    ]
    assert backoff_delay(10_000, 1.0, 300.0, rand=lambda: 1.0) == 300.0


def test_next_delay_is_none_once_the_attempts_are_used_up():
    policy = RetryPolicy(max_attempts=3, backoff_base=2.0, backoff_max=100.0)
    assert 1.0 <= policy.next_delay(1) <= 2.0  # type: ignore[operator]
    assert 2.0 <= policy.next_delay(2) <= 4.0  # type: ignore[operator]
    assert policy.next_delay(3) is None
    assert policy.next_delay(4) is None


def test_the_policy_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        RetryPolicy().max_attempts = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"max_attempts": 0}, "RetryPolicy.max_attempts must be >= 1, got 0"),
        ({"backoff_base": -1.0}, "RetryPolicy.backoff_base must be >= 0, got -1.0"),
        ({"backoff_max": -2.0}, "RetryPolicy.backoff_max must be >= 0, got -2.0"),
    ],
)
def test_an_impossible_policy_is_refused(values, message):
    with pytest.raises(ValueError) as error:
        RetryPolicy(**values)
    assert str(error.value) == message


def test_the_outbox_policy_comes_from_its_settings():
    settings = {
        "notifier.outbox.max_attempts": "3",
        "notifier.outbox.backoff_base": "0.5",
        "notifier.outbox.backoff_max": "60",
    }
    policy = RetryPolicy.from_section(Section(settings, "notifier.outbox."))
    assert policy == RetryPolicy(max_attempts=3, backoff_base=0.5, backoff_max=60.0)
    assert RetryPolicy.from_section(Section({}, "notifier.outbox.")) == RetryPolicy()


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (
            "max_attempts",
            "0",
            "notifier.outbox.max_attempts: expected a positive integer (got '0')",
        ),
        ("backoff_base", "-1", "notifier.outbox.backoff_base: expected a number >= 0 (got '-1')"),
        ("backoff_max", "soon", "notifier.outbox.backoff_max: expected a number >= 0 (got 'soon')"),
    ],
)
def test_a_bad_outbox_retry_setting_names_its_key(key, value, message):
    with pytest.raises(SettingsError) as error:
        RetryPolicy.from_section(Section({f"notifier.outbox.{key}": value}, "notifier.outbox."))
    assert str(error.value) == message


def test_the_relay_schedules_in_milliseconds_and_dead_letters_at_the_limit():
    policy = RetryPolicy(max_attempts=2, backoff_base=4.0, backoff_max=4.0)
    due = retry_at(policy, 1, now=1_000)
    assert due is not None and 3_000 <= due <= 5_000
    assert retry_at(policy, 2, now=1_000) is None


def test_the_worker_has_its_own_policy_of_the_same_type():
    config = WorkerConfig(redis_url="redis://localhost", listname="q")
    assert config.retry is WORKER_RETRY
    assert config.retry == RetryPolicy(max_attempts=5, backoff_base=1.0, backoff_max=300.0)


def test_the_worker_delays_and_buries_by_its_policy(redis_client, listname):
    policy = RetryPolicy(max_attempts=2, backoff_base=100.0, backoff_max=100.0)
    keys = QueueKeys(listname)
    consumer = Consumer(redis_client, keys, "w1", policy)
    redis_client.rpush(listname, make_event(0).to_json())
    [message] = consumer.claim(1, None)
    before = time.time()
    first = consumer.fail(message, "ValueError: once")
    assert (first.attempts, first.dead) == (1, False)
    assert 50.0 <= first.delay <= 100.0
    [(_, due)] = redis_client.zrange(keys.delayed, 0, -1, withscores=True)
    assert before + 50.0 <= due <= time.time() + 100.0
    redis_client.zrem(keys.delayed, message)
    redis_client.rpush(listname, message)
    [message] = consumer.claim(1, None)
    assert consumer.fail(message, "ValueError: twice").dead is True
    assert redis_client.llen(keys.dead) == 1
