"""Queue inspection: the functions of notifier.queue.protocol and the notifier-queue CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from notifier.cli.queue import main
from notifier.queue import protocol as queue
from notifier.queue.protocol import QueueKeys
from notifier.retry import RetryPolicy
from notifier.worker.consumer import Consumer
from notifier.worker.housekeeping import heartbeat
from tests.helpers import ROOT, make_event


def bury(client, listname: str, numbers: range) -> None:
    consumer = Consumer(client, QueueKeys(listname), "w1", RetryPolicy(max_attempts=1))
    client.rpush(listname, *[make_event(n).to_json() for n in numbers])
    for message in consumer.claim(len(numbers), None):
        consumer.fail(message, "ValueError: nope")


def test_depth_inflight_and_workers(redis_client, redis_url, listname, capsys):
    keys = QueueKeys(listname)
    redis_client.rpush(listname, *[make_event(n).to_json() for n in range(5)])
    assert queue.worker_alive(redis_client, listname) is False
    heartbeat(redis_client, keys, ["w1", "w2"], json.dumps({"pid": 42}), ttl=5)
    Consumer(redis_client, keys, "w1", RetryPolicy(max_attempts=3)).claim(2, None)
    assert queue.depth(redis_client, listname) == 3
    assert queue.inflight(redis_client, listname) == {"w1": 2, "w2": 0}
    assert queue.worker_alive(redis_client, listname) is True
    redis_client.delete(keys.heartbeat("w2"))
    assert list(queue.live_workers(redis_client, listname)) == ["w1"]

    for command in (["depth"], ["inflight"], ["workers"]):
        assert main(["--url", redis_url, "--listname", listname, *command]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "queued 3",
        "delayed 0",
        "dead 0",
        "w1 2",
        "w2 0",
        'w1 {"pid": 42}',
    ]


def test_dead_list_replay_purge(redis_client, redis_url, listname, capsys):
    bury(redis_client, listname, range(4))
    where = ["--url", redis_url, "--listname", listname]
    assert main([*where, "dead", "list", "--count", "2"]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [json.loads(entry["message"])["event_id"] for entry in listed] == ["ev-0", "ev-1"]
    assert listed[0]["error"] == "ValueError: nope" and listed[0]["attempts"] == 1

    assert main([*where, "dead", "replay", "--count", "1"]) == 0
    assert [json.loads(m)["event_id"] for m in redis_client.lrange(listname, 0, -1)] == ["ev-0"]
    assert main([*where, "dead", "purge", "--count", "2", "--yes"]) == 0
    assert [letter.message for letter in queue.dead_letters(redis_client, listname)] == [
        make_event(3).to_json()
    ]
    assert main([*where, "dead", "replay"]) == 0
    assert capsys.readouterr().out.splitlines() == ["replayed 1", "purged 2", "replayed 1"]
    assert redis_client.llen(listname) == 2
    assert redis_client.exists(QueueKeys(listname).attempts) == 0


def test_cli_runs_as_a_module_and_reads_the_ini(redis_url, redis_client, listname, tmp_path):
    ini = tmp_path / "app.ini"
    ini.write_text(
        "[app:main]\nuse = call:notifier:main\n"
        f"notifier.event_listeners.redis.url = {redis_url}\n"
        f"notifier.event_listeners.redis.listname = {listname}\n"
    )
    redis_client.rpush(listname, "x", "y")
    done = subprocess.run(
        [sys.executable, "-m", "notifier.cli.queue", "--ini", str(ini), "depth"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert (done.returncode, done.stdout) == (0, "queued 2\ndelayed 0\ndead 0\n")


def test_cli_errors_name_the_setting(tmp_path, capsys):
    ini = tmp_path / "app.ini"
    ini.write_text(
        "[app:main]\nuse = call:notifier:main\n"
        "notifier.event_listeners.redis.url = http://localhost\n"
    )
    for argv in (["--ini", str(ini), "depth"], ["--url", "localhost:6379", "depth"]):
        with pytest.raises(SystemExit) as exit:
            main(argv)
        assert exit.value.code == 2
    errors = capsys.readouterr().err
    assert (
        "notifier.event_listeners.redis.url: expected a Redis URL starting with redis://,"
        " rediss://, unix:// (got 'http://localhost')"
    ) in errors
    assert "--url: expected a Redis URL starting with" in errors
