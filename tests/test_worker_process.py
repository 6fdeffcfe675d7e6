"""``notifier worker`` as a process: signals, crashes and a Redis restart, each bounded in time."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
import redis

from notifier.dev.redis_server import PrivateRedis
from notifier.queue.protocol import QueueKeys
from notifier.worker import WorkerConfig, run
from tests.helpers import make_event, start, stop, wait_for

HANDLER = "tests.worker_handlers:record"


def worker(url: str, listname: str, out: Path, *options: str, sleep: float = 0.0):
    args = [
        "-m",
        "notifier.cli",
        "worker",
        "--handler",
        HANDLER,
        "--url",
        url,
        "--listname",
        listname,
        "--heartbeat-ttl",
        "1",
        "--block-timeout",
        "0.2",
        "--backoff-base",
        "0.05",
        "--backoff-max",
        "0.2",
        *options,
    ]
    return start(args, env={"NOTIFIER_TEST_OUT": str(out), "NOTIFIER_TEST_SLEEP": str(sleep)})


def lines(out: Path) -> list[str]:
    return out.read_text().splitlines() if out.exists() else []


def ids(client: redis.Redis, key: str) -> list[str]:
    return [json.loads(message)["event_id"] for message in client.lrange(key, 0, -1)]


def fill(client: redis.Redis, listname: str, numbers: range) -> None:
    client.rpush(listname, *[make_event(n).to_json() for n in numbers])


def test_burst_cli_drains_and_exits(redis_url, redis_client, listname, tmp_path):
    out = tmp_path / "out"
    fill(redis_client, listname, range(30))
    process = worker(redis_url, listname, out, "--burst", "--batch-size", "8")
    assert process.wait(timeout=30) == 0
    assert [line for line in lines(out) if line.startswith("done")] == [
        f"done ev-{n}" for n in range(30)
    ]
    assert "processed 30  failed 0  dead 0" in stop(process)


def test_sigterm_finishes_the_current_message(redis_url, redis_client, listname, tmp_path):
    out = tmp_path / "out"
    fill(redis_client, listname, range(3))
    process = worker(redis_url, listname, out, sleep=1.0)
    try:
        wait_for(lambda: "start ev-0" in lines(out))
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        output = stop(process)
    assert lines(out) == ["start ev-0", "done ev-0"], output
    assert ids(redis_client, listname) == ["ev-1", "ev-2"]
    assert redis_client.smembers(QueueKeys(listname).workers) == set()


def test_second_sigterm_gives_the_message_back(redis_url, redis_client, listname, tmp_path):
    out = tmp_path / "out"
    fill(redis_client, listname, range(3))
    process = worker(redis_url, listname, out, sleep=60.0)
    try:
        wait_for(lambda: "start ev-0" in lines(out))
        process.send_signal(signal.SIGTERM)
        wait_for(lambda: "again to stop at once" in process.output)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 1
    finally:
        output = stop(process)
    assert lines(out) == ["start ev-0"], output
    assert ids(redis_client, listname) == ["ev-0", "ev-1", "ev-2"]


@pytest.mark.slow  # a fault run: a worker SIGKILLed mid-message
def test_sigkilled_worker_message_is_redelivered_by_the_reaper(
    redis_url, redis_client, listname, tmp_path
):
    out = tmp_path / "out"
    fill(redis_client, listname, range(2))
    process = worker(redis_url, listname, out, sleep=60.0)
    try:
        wait_for(lambda: "start ev-0" in lines(out))
    finally:
        stop(process)  # SIGKILL in the middle of ev-0
    keys = QueueKeys(listname)
    [dead_id] = [member.decode() for member in redis_client.smembers(keys.workers)]
    assert ids(redis_client, keys.processing(dead_id)) == ["ev-0"]
    wait_for(lambda: not redis_client.exists(keys.heartbeat(dead_id)), timeout=5)
    seen: list[str] = []
    run(
        lambda event: seen.append(event.event_id),
        WorkerConfig(redis_url=redis_url, listname=listname, burst=True, heartbeat_ttl=1),
    )
    assert seen == ["ev-0", "ev-1"]
    assert not redis_client.exists(keys.processing(dead_id))


@pytest.fixture
def restartable():
    server = PrivateRedis(persistent=True).start()
    yield server
    server.close()


@pytest.mark.slow  # a fault run: Redis stopped and restarted under a worker
def test_worker_rides_out_a_redis_restart(restartable, tmp_path):
    out = tmp_path / "out"
    client = redis.Redis.from_url(restartable.url, socket_timeout=5)
    fill(client, "q", range(50))
    process = worker(restartable.url, "q", out, sleep=0.01)
    try:
        wait_for(lambda: "done ev-5" in lines(out))
        restartable.stop()
        wait_for(lambda: "redis unavailable" in process.output)
        restartable.start()
        fill(client, "q", range(50, 80))
        expected = {f"done ev-{n}" for n in range(80)}
        try:
            wait_for(lambda: expected <= set(lines(out)), timeout=30)
        except AssertionError:
            state = {key: client.type(key) for key in client.scan_iter("q*")}
            raise AssertionError(
                f"missing {sorted(expected - set(lines(out)))}; keys {state};"
                f" queue {ids(client, 'q')}\n{process.output}"
            ) from None
        assert process.poll() is None
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        output = stop(process)
        client.close()
    assert "redis unavailable" in output
    assert client.llen("q") == 0
