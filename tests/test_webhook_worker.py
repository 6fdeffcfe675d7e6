"""workers/send_webhook.py: the webhook listener fed from the Redis queue, and its commands."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from notifier.cli.main import main as notifier_main
from notifier.delivery.events import ResourceChanged
from notifier.listeners import Rejected
from notifier.listeners.webhook import listener_from_ini
from notifier.queue.protocol import dead_letters
from notifier.settings import SettingsError
from notifier.worker import WorkerConfig, run
from tests.email_helpers import record_event
from tests.ini import write_ini
from tests.webhook_helpers import hook_settings, verified
from tests.webhook_receiver import Receiver

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "workers" / "send_webhook.py"
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


def worker_ini(tmp_path: Path, url: str, redis_url: str, listname: str, **extra: str) -> str:
    """An INI whose app queues events (``redis``) and whose ``hook`` only the worker runs."""
    settings = hook_settings(url, **extra)
    settings["notifier.event_listeners"] = "redis"
    settings["notifier.event_listeners.redis.use"] = "notifier.listeners.redis"
    settings["notifier.event_listeners.redis.url"] = redis_url
    settings["notifier.event_listeners.redis.listname"] = listname
    settings["notifier.storage_url"] = "state.sqlite"  # relative to the INI's folder
    settings["notifier.userid_hmac_secret"] = "a-secret-for-the-outbox-command-of-this-test"
    return write_ini(tmp_path / "app.ini", settings)


def queue(client: redis.Redis, listname: str, *record_ids: str) -> list[ResourceChanged]:
    events = [record_event("create", new={"id": record_id}) for record_id in record_ids]
    for event in events:
        client.rpush(listname, event.to_json())
    return events


def test_worker_posts_queued_events_in_order_in_burst_mode(
    tmp_path: Path, receiver: Receiver, redis_url: str, redis_client: redis.Redis, listname: str
) -> None:
    ini = worker_ini(tmp_path, receiver.url, redis_url, listname, resources="record")
    events = queue(redis_client, listname, "a", "b", "c")

    result = subprocess.run(
        [sys.executable, str(SCRIPT), ini, "--queue-listener", "redis",
         "--webhook-listener", "hook", "--burst"],
        env=ENV, capture_output=True, text=True, timeout=60,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    payloads = [verified(request) for request in receiver.wait_for(3)]
    assert [p["event_id"] for p in payloads] == [e.event_id for e in events]
    assert [r.header("webhook-id") for r in receiver.received] == [e.event_id for e in events]
    assert redis_client.llen(listname) == 0


def test_worker_stops_on_sigterm(
    tmp_path: Path, receiver: Receiver, redis_url: str, redis_client: redis.Redis, listname: str
) -> None:
    ini = worker_ini(tmp_path, receiver.url, redis_url, listname)
    process = subprocess.Popen(
        [sys.executable, str(SCRIPT), ini, "--queue-listener", "redis"],
        env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        [event] = queue(redis_client, listname, "a")
        assert verified(receiver.wait_for(1, timeout=30)[0])["event_id"] == event.event_id
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "send_webhook worker stopped" in output


def test_a_410_in_the_worker_dead_letters_at_once(
    tmp_path: Path, receiver: Receiver, redis_url: str, redis_client: redis.Redis, listname: str
) -> None:
    receiver.answers = [410]
    ini = worker_ini(tmp_path, receiver.url, redis_url, listname)
    queue(redis_client, listname, "a", "b")
    handler = listener_from_ini(ini, "hook")
    config = dataclasses.replace(WorkerConfig.from_ini(ini, "redis"), burst=True)
    try:
        stats = run(handler, config)
    finally:
        handler.close()

    assert [r.status for r in receiver.received] == [410]
    errors = [letter.error for letter in dead_letters(redis_client, listname)]
    assert len(errors) == 2 and all(error.startswith("rejected: ") for error in errors), errors
    assert "answered 410 Gone" in errors[0] and "is disabled" in errors[1]
    assert stats.dead == 2


def test_the_worker_needs_a_webhook_listener(
    tmp_path: Path, receiver: Receiver, redis_url: str, listname: str
) -> None:
    ini = worker_ini(tmp_path, receiver.url, redis_url, listname)
    with pytest.raises(SettingsError) as error:
        listener_from_ini(ini, "redis")
    assert str(error.value) == (
        "notifier.event_listeners.redis.use: expected a webhook listener"
        " (use = notifier.listeners.webhook) (got 'RedisListener')"
    )


@dataclasses.dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def command(capsys: pytest.CaptureFixture[str]) -> Callable[..., Ran]:
    """Run ``notifier webhook-...`` in this process (one test runs the real command)."""

    def run_command(*args: str) -> Ran:
        status = notifier_main(list(args))
        out, err = capsys.readouterr()
        return Ran(status, out, err)

    return run_command


def test_the_notifier_command_runs(
    tmp_path: Path, receiver: Receiver, redis_url: str, listname: str
) -> None:
    ini = worker_ini(tmp_path, receiver.url, redis_url, listname)
    result = subprocess.run(
        [sys.executable, "-m", "notifier.cli", "webhook-status", ini, "--listener", "hook"],
        env=ENV, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert (result.returncode, result.stdout) == (
        0,
        f"http://127.0.0.1:{receiver.port}/...: enabled\n",
    )


def test_webhook_test_pings_each_endpoint(
    tmp_path: Path, receiver: Receiver, redis_url: str, listname: str, command: Callable[..., Ran]
) -> None:
    ini = worker_ini(tmp_path, f"{receiver.url} http://127.0.0.1:9/down", redis_url, listname)
    receiver.answers = [201]

    result = command("webhook-test", ini, "--listener", "hook")

    assert result.returncode == 1
    first, second = result.stdout.splitlines()
    assert first == f"http://127.0.0.1:{receiver.port}/...: 201 '{{\"status\": 201}}'"
    assert second.startswith("http://127.0.0.1:9/...: failed: Unavailable: ")
    assert result.stderr == (
        "notifier: webhook-test: not every endpoint of listener hook answered 2xx\n"
    )
    assert verified(receiver.received[0])["bucket_id"] == "webhook-test"


def test_webhook_test_exits_0_when_all_answer_2xx_and_1_on_bad_settings(
    tmp_path: Path, receiver: Receiver, redis_url: str, listname: str, command: Callable[..., Ran]
) -> None:
    ini = worker_ini(tmp_path, receiver.url, redis_url, listname)
    assert command("webhook-test", ini, "--listener", "hook").returncode == 0
    bad = worker_ini(tmp_path, receiver.url, redis_url, listname, timeout="never")
    result = command("webhook-test", bad, "--listener", "hook")
    assert (result.returncode, result.stderr) == (
        1,
        "notifier: notifier.event_listeners.hook.timeout: expected a number >= 0.001"
        " (got 'never')\n",
    )


def test_webhook_status_and_enable(
    tmp_path: Path, receiver: Receiver, redis_url: str, listname: str, command: Callable[..., Ran]
) -> None:
    ini = worker_ini(tmp_path, receiver.url, redis_url, listname)
    receiver.answers = [410]
    handler = listener_from_ini(ini, "hook")
    with pytest.raises(Rejected, match="410 Gone"):
        handler(record_event("create", new={"id": "a"}))
    handler.close()
    label = f"http://127.0.0.1:{receiver.port}/..."

    status = command("webhook-status", ini, "--listener", "hook")
    assert status.stdout.startswith(f"{label}: disabled, answered 410 Gone at ")
    outbox = json.loads(command("outbox", "stats", ini).stdout)["disabled_endpoints"]
    assert [(e["listener"], e["url"], e["reason"][:14]) for e in outbox] == [
        ("hook", label, "answered 410 G")
    ]
    unknown = command("webhook-enable", ini, "--listener", "hook", "--url", "http://x/")
    assert (unknown.returncode, unknown.stderr) == (
        1,
        "notifier: --url: not a URL of listener hook (got 'http://x/')\n",
    )
    enable = command("webhook-enable", ini, "--listener", "hook", "--url", receiver.url)
    assert (enable.returncode, enable.stdout) == (0, f"{label}: enabled\n")
    assert command("webhook-status", ini, "--listener", "hook").stdout == f"{label}: enabled\n"
    assert json.loads(command("outbox", "stats", ini).stdout)["disabled_endpoints"] == []
    again = command("webhook-enable", ini, "--listener", "hook")
    assert again.stdout == "nothing to enable: no endpoint was disabled\n"
