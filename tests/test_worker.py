"""The worker runtime in-process, in burst mode, against the real Redis."""

from __future__ import annotations

import json
import signal
import threading

import pytest

from notifier.delivery.events import ResourceChanged
from notifier.queue import protocol as queue
from notifier.queue.protocol import QueueKeys
from notifier.retry import RetryPolicy
from notifier.settings import SettingsError
from notifier.worker import WorkerConfig, run
from tests.helpers import make_event


def fill(client, listname: str, count: int, start: int = 0) -> None:
    client.rpush(listname, *[make_event(n).to_json() for n in range(start, start + count)])


def config(redis_url: str, listname: str, **options) -> WorkerConfig:
    fast = {"burst": True, "retry": fast_retry(5), "heartbeat_ttl": 5.0}
    return WorkerConfig(redis_url=redis_url, listname=listname, **{**fast, **options})


def fast_retry(max_attempts: int) -> RetryPolicy:
    return RetryPolicy(max_attempts=max_attempts, backoff_base=0.01, backoff_max=0.05)


def leftovers(client, listname: str) -> list[str]:
    """Keys of the queue still present after a worker stopped, the dead list aside."""
    keys = sorted(key.decode() for key in client.scan_iter(f"{listname}*"))
    return [key for key in keys if key != QueueKeys(listname).dead]


@pytest.mark.parametrize("batch_size", [1, 64])
def test_burst_drains_in_order_and_leaves_nothing_behind(
    redis_url, redis_client, listname, batch_size
):
    fill(redis_client, listname, 500)
    seen: list[str] = []
    stats = run(
        lambda event: seen.append(event.event_id),
        config(redis_url, listname, batch_size=batch_size),
    )
    assert seen == [f"ev-{n}" for n in range(500)]
    assert (stats.processed, stats.failed, stats.dead) == (500, 0, 0)
    assert leftovers(redis_client, listname) == []


def test_handler_gets_the_event_back(redis_url, redis_client, listname):
    fill(redis_client, listname, 1)
    seen: list[ResourceChanged] = []
    run(seen.append, config(redis_url, listname))
    assert seen == [make_event(0)]


def test_always_failing_message_is_dead_after_max_attempts(redis_url, redis_client, listname):
    fill(redis_client, listname, 2)
    calls: list[str] = []

    def handler(event: ResourceChanged) -> None:
        calls.append(event.event_id)
        if event.event_id == "ev-0":
            raise RuntimeError(f"boom {event.event_id}")

    stats = run(handler, config(redis_url, listname, retry=fast_retry(3)))
    assert calls.count("ev-0") == 3 and calls.count("ev-1") == 1
    assert (stats.processed, stats.failed, stats.dead) == (1, 3, 1)
    [letter] = queue.dead_letters(redis_client, listname)
    assert letter.error == "RuntimeError: boom ev-0"
    assert letter.attempts == 3
    assert letter.message == make_event(0).to_json()
    assert leftovers(redis_client, listname) == []


def test_retry_succeeds_and_forgets_the_attempts(redis_url, redis_client, listname):
    fill(redis_client, listname, 20)
    failed_once: set[str] = set()

    def flaky(event: ResourceChanged) -> None:
        if event.event_id not in failed_once and int(event.event_id[3:]) % 3 == 0:
            failed_once.add(event.event_id)
            raise ConnectionResetError("smtp went away")

    stats = run(flaky, config(redis_url, listname, batch_size=8))
    assert (stats.processed, stats.failed, stats.dead) == (20, 7, 0)
    assert leftovers(redis_client, listname) == []


def test_a_message_that_is_not_an_event_is_dead_at_once(redis_url, redis_client, listname):
    redis_client.rpush(listname, b"not json", json.dumps({"no": "action"}))
    stats = run(lambda event: None, config(redis_url, listname))
    letters = queue.dead_letters(redis_client, listname)
    assert [(letter.message, letter.attempts) for letter in letters] == [
        ("not json", 1),
        ('{"no": "action"}', 1),
    ]
    assert letters[0].error.startswith("not an event message: Expecting value")
    assert stats.dead == 2


def test_threads_handle_each_message_once(redis_url, redis_client, listname):
    fill(redis_client, listname, 400)
    seen: list[str] = []
    lock = threading.Lock()

    def handler(event: ResourceChanged) -> None:
        with lock:
            seen.append(event.event_id)

    stats = run(handler, config(redis_url, listname, concurrency=4, batch_size=10))
    assert sorted(seen) == sorted(f"ev-{n}" for n in range(400))
    assert stats.processed == 400


def test_reaper_returns_the_messages_of_a_dead_worker_first(redis_url, redis_client, listname):
    keys = QueueKeys(listname)
    fill(redis_client, listname, 2, start=10)
    # a worker that claimed ev-0 then ev-1 and died: its heartbeat is gone
    redis_client.lpush(keys.processing("ghost"), make_event(0).to_json(), make_event(1).to_json())
    redis_client.sadd(keys.workers, "ghost")
    seen: list[str] = []
    run(lambda event: seen.append(event.event_id), config(redis_url, listname))
    assert seen == ["ev-0", "ev-1", "ev-10", "ev-11"]
    assert leftovers(redis_client, listname) == []


def test_reaper_counts_a_death_as_an_attempt(redis_url, redis_client, listname):
    keys = QueueKeys(listname)
    message = make_event(0).to_json()
    redis_client.lpush(keys.processing("ghost"), message)
    redis_client.sadd(keys.workers, "ghost")
    redis_client.hset(keys.attempts, queue.message_id(message), 1)
    run(lambda event: None, config(redis_url, listname, retry=fast_retry(2)))
    [letter] = queue.dead_letters(redis_client, listname)
    assert (letter.attempts, letter.error) == (2, "worker ghost died while handling it")


def test_config_from_ini(tmp_path):
    ini = tmp_path / "app.ini"
    ini.write_text(
        "[app:main]\n"
        "use = call:notifier:main\n"
        "notifier.event_listeners = queue\n"
        "notifier.event_listeners.queue.use = notifier.listeners.redis\n"
        "notifier.event_listeners.queue.url = redis://localhost:6379/3\n"
        "notifier.event_listeners.queue.listname = jobs\n"
    )
    loaded = WorkerConfig.from_ini(str(ini), "queue", batch_size=10)
    assert (loaded.redis_url, loaded.listname, loaded.batch_size) == (
        "redis://localhost:6379/3",
        "jobs",
        10,
    )
    with pytest.raises(SettingsError) as error:
        WorkerConfig.from_ini(str(ini), "redis")
    assert str(error.value) == "notifier.event_listeners.redis.url: is required"


def test_config_refuses_a_socket_timeout_within_the_block_timeout():
    with pytest.raises(ValueError) as error:
        WorkerConfig(redis_url="redis://localhost", listname="q", block_timeout=5, socket_timeout=5)
    assert str(error.value) == (
        "WorkerConfig.socket_timeout must be longer than block_timeout (5 <= 5),"
        " or a blocking claim times out"
    )
    assert WorkerConfig(redis_url="redis://x", listname="q", block_timeout=2).read_timeout == 7


def test_a_signal_inside_an_event_wait_is_acted_on_by_the_supervisor(redis_url, listname):
    """A handler runs between two bytecodes of the main thread, maybe while ``Event.wait``
    holds that event's lock; setting the event from the handler deadlocked there."""
    from notifier.worker.runtime import Runtime
    from notifier.worker.status import LogStatus

    runtime = Runtime(lambda event: None, config(redis_url, listname), LogStatus())

    def two_signals_inside_waits() -> None:
        for event in (runtime.wake, runtime.warm):
            with event._cond:  # the moment Event.wait holds its lock
                runtime.on_signal(signal.SIGTERM, None)

    signalling = threading.Thread(target=two_signals_inside_waits, daemon=True)
    signalling.start()
    signalling.join(timeout=5)
    try:
        assert not signalling.is_alive(), "the signal handler blocked on an event's lock"
        assert not runtime.warm.is_set()  # the handler only notes the signals
        runtime._rest(runtime.wake, 1.0)
        assert runtime.warm.is_set() and runtime.cold.is_set()  # first warm, then cold
    finally:
        runtime.close()


def test_a_worker_tries_a_redis_that_is_down_again_within_a_second(redis_url, listname):
    """However long the outage, the wait between tries stays short: after ten minutes of a
    30 s cap a worker came back up to 30 s after Redis (the relay resumes within 1 s)."""
    from notifier.worker.runtime import Runtime
    from notifier.worker.status import LogStatus

    runtime = Runtime(lambda event: None, config(redis_url, listname), LogStatus())
    try:
        waits = [runtime._redis_pause(ConnectionError("refused"), n) for n in range(1, 200)]
    finally:
        runtime.close()
    assert max(waits) <= 1.0
