"""Queue inspection: the functions of notifier.queue.protocol and ``notifier queue``."""

from __future__ import annotations

import json
import signal

import pytest

from notifier.cli.main import main as notifier_main
from notifier.dev.redis_server import free_port
from notifier.queue import protocol as queue
from notifier.queue.protocol import QueueKeys
from notifier.retry import RetryPolicy
from notifier.worker.consumer import Consumer
from notifier.worker.housekeeping import heartbeat
from tests.cli import NOTIFIER, notifier, one_line_error
from tests.helpers import make_event, read_lines, start


def main(argv: list[str]) -> int:
    return notifier_main(["queue", *argv])


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
        assert main([*command, "--url", redis_url, "--listname", listname]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines.pop(5).startswith("oldest_age_s ")
    assert lines == [
        "queued 3",
        "delayed 0",
        "dead 0",
        "inflight 2",
        "workers 1",
        "w1 2",
        "w2 0",
        'w1 {"pid": 42}',
    ]


def test_dead_list_replay_purge(redis_client, redis_url, listname, capsys):
    bury(redis_client, listname, range(4))
    where = ["--url", redis_url, "--listname", listname]
    assert main(["dead", "list", *where, "--count", "2"]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [json.loads(entry["message"])["event_id"] for entry in listed] == ["ev-0", "ev-1"]
    assert listed[0]["error"] == "ValueError: nope" and listed[0]["attempts"] == 1

    assert main(["dead", "replay", *where, "--count", "1"]) == 0
    assert [json.loads(m)["event_id"] for m in redis_client.lrange(listname, 0, -1)] == ["ev-0"]
    assert main(["dead", "purge", *where, "--count", "2", "--yes"]) == 0
    assert [letter.message for letter in queue.dead_letters(redis_client, listname)] == [
        make_event(3).to_json()
    ]
    assert main(["dead", "replay", *where]) == 0
    assert capsys.readouterr().out.splitlines() == ["replayed 1", "purged 2", "replayed 1"]
    assert redis_client.llen(listname) == 2
    assert redis_client.exists(QueueKeys(listname).attempts) == 0


def test_the_command_reads_the_ini_beside_it(redis_url, redis_client, listname, tmp_path):
    ini = tmp_path / "app.ini"
    ini.write_text(
        "[app:main]\nuse = call:notifier:main\n"
        f"notifier.event_listeners.redis.url = {redis_url}\n"
        f"notifier.event_listeners.redis.listname = {listname}\n"
    )
    redis_client.rpush(listname, make_event(1).to_json(), make_event(2).to_json())
    done = notifier("queue", cwd=tmp_path)  # ./app.ini, and depth by default
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[:3] == ["queued 2", "delayed 0", "dead 0"]
    assert done.stdout.splitlines()[5].startswith("oldest_age_s ")


def test_purge_without_yes_and_without_a_terminal_refuses_at_once(
    redis_url, redis_client, listname
):
    bury(redis_client, listname, range(2))
    done = notifier("queue", "dead", "purge", "--url", redis_url, "--listname", listname)
    assert one_line_error(done) == (
        f"notifier: --yes: delete all dead letters of {redis_url} list {listname!r}?"
        " needs a terminal to confirm, or --yes"
    )
    assert redis_client.llen(QueueKeys(listname).dead) == 2


def test_a_long_replay_reports_progress_off_a_terminal(redis_client, redis_url, listname):
    bury(redis_client, listname, range(1200))
    done = notifier("queue", "dead", "replay", "--url", redis_url, "--listname", listname)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "replayed 1200\n"
    assert done.stderr.splitlines() == [
        "replaying dead letters: 500/1200",
        "replaying dead letters: 1000/1200",
        "replaying dead letters: 1200/1200",
    ]
    assert redis_client.llen(listname) == 1200


def test_watch_prints_a_line_per_sample_until_interrupted(redis_url, redis_client, listname):
    redis_client.rpush(listname, make_event(1).to_json())
    args = ["queue", "depth", "--url", redis_url, "--listname", listname, "--watch", "0.1"]
    process = start([NOTIFIER, *args])
    try:
        read_lines(process, 2, timeout=30)
    finally:
        process.popen.send_signal(signal.SIGINT)
        assert process.popen.wait(timeout=10) == 0
    first, second = process.lines[:2]
    assert " queued=1 delayed=0 dead=0 inflight=0 workers=0 oldest_age_s=" in first
    assert "queued_per_s=0.0 dead_per_s=0.0" in second


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("localhost:6379", "expected a Redis URL starting with redis://, rediss://, unix://"),
        ("redis://localhost:63a9/0", "the port must be a number between 1 and 65535"),
        ("redis://localhost:99999/0", "the port must be a number between 1 and 65535"),
        ("redis:///0", "the URL has no host"),
        ("redis://localhost:6379/abc", "the database number after the host must be an integer"
         " >= 0, e.g. /0"),
        ("redis://localhost/0?socket_timeout=x", "query option socket_timeout must be a number"
         " of seconds > 0"),
        ("redis://localhost/0?db=x", "query option db must be an integer >= 0"),
        ("redis://localhost/0?retry_on_timeout=off", "query option retry_on_timeout must be one"
         " of true, yes, 1, false, no, 0"),
        ("redis://localhost/0?sockettimeout=1", "unknown query option 'sockettimeout' (did you"
         " mean 'socket_timeout'?)"),
    ],
)  # fmt: skip
def test_a_bad_url_is_one_line_naming_it(url, problem, capsys):
    assert main(["depth", "--url", url]) == 1
    assert capsys.readouterr().err == f"notifier: --url: {problem} (got {url!r})\n"


def test_the_command_prints_a_bad_url_as_one_line():
    url = "redis://localhost:63a9/0"
    assert one_line_error(notifier("queue", "depth", "--url", url)) == (
        f"notifier: --url: the port must be a number between 1 and 65535 (got {url!r})"
    )


def test_a_bad_url_in_the_ini_names_its_key(tmp_path):
    ini = tmp_path / "app.ini"
    ini.write_text(
        "[app:main]\nuse = call:notifier:main\n"
        "notifier.event_listeners.redis.url = redis://localhost:99999/0\n"
    )
    assert one_line_error(notifier("queue", "depth", str(ini))) == (
        "notifier: notifier.event_listeners.redis.url: the port must be a number between"
        " 1 and 65535 (got 'redis://localhost:99999/0')"
    )


def test_an_unreachable_redis_is_one_line_naming_it():
    url = f"redis://127.0.0.1:{free_port()}/0"
    line = one_line_error(notifier("queue", "depth", "--url", url))
    assert line.startswith(f"notifier: redis at {url}: Error 111 connecting to 127.0.0.1:")
    assert line.endswith("Connection refused")


def test_queue_alone_is_depth_and_a_typo_is_named(redis_url, listname, capsys):
    assert main(["--url", redis_url, "--listname", listname]) == 0
    assert capsys.readouterr().out.startswith("queued 0\ndelayed 0\ndead 0\n")
    assert main(["dpth"]) == 2
    assert capsys.readouterr().err == "notifier: no such command 'dpth' (did you mean 'depth'?)\n"
