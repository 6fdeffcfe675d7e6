"""Delivery guarantees: nothing for a rolled-back write, nothing lost after commit."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from notifier.cli.main import main as notifier_main
from notifier.delivery.changes import BeforeCommit
from notifier.storage import StorageError, transaction
from tests.cli import NOTIFIER
from tests.eventing import (
    ALICE,
    RECORDS,
    SECRET,
    app_factory,
    create_collection,
    listener,
    session_class,
)
from tests.helpers import make_event, server_answers, wait_for

FAST_RETRIES = {
    "notifier.outbox.backoff_base": "0.001",
    "notifier.outbox.backoff_max": "0.001",
    "notifier.outbox.lease": "0.001",
}


@pytest.fixture
def make(tmp_path, backend_settings):
    """Apps with listeners, on SQLite and on PostgreSQL."""
    yield from app_factory(tmp_path, backend_settings)


def stats(app):
    with transaction(app.app.registry.notifier.storage, write=False) as session:
        return session.outbox_stats()


def relay_until_quiet(app):
    """Relay rounds until nothing waits for delivery (delivered or dead-lettered)."""
    relay = app.app.registry.notifier.relay
    wait_for(lambda: relay.run_once() >= 0 and stats(app).backlog == 0, step=0.005)


def test_a_failing_listener_neither_fails_the_write_nor_stops_the_others(make, caplog):
    app = make("flaky steady", **{"notifier.event_listeners.flaky.fail_first": "1"})
    create_collection(app)
    assert len(listener(app, "steady").events) == 2
    failed_event = listener(app, "steady").events[0].event_id
    assert f"listener flaky failed on event(s) {failed_event}" in caplog.text


def test_the_relay_delivers_once_after_two_failures(make):
    app = make(
        "flaky",
        **{
            "notifier.event_listeners.flaky.fail_first": "2",
            "notifier.event_listeners.flaky.actions": "update",
            **FAST_RETRIES,
        },
    )
    create_collection(app)
    app.patch_json("/v1/buckets/b", {"data": {"x": 1}}, headers=ALICE, status=200)
    flaky = listener(app, "flaky")
    assert flaky.events == [] and stats(app).backlog == 1
    relay_until_quiet(app)
    assert [e.payload["bucket_id"] for e in flaky.events] == ["b"]
    # A stand-in for the request that made the change (notifier.delivery.standin).
    assert (flaky.events[0].request.method, flaky.events[0].request.path) == (
        "PATCH",
        "/v1/buckets/b",
    )
    assert flaky.calls == 3
    assert stats(app).backlog == 0


def test_delivered_events_leave_the_outbox(make):
    app = make("rec")
    create_collection(app)
    assert stats(app).backlog == 0


def test_a_rolled_back_request_leaves_other_requests_deliveries_settled(make):
    """The code that delivered an entry deletes it; no other request's transaction does.

    On the old main, a delivered entry's delete rode the next write: when that
    write rolled back, the entry stayed and was delivered again.
    """
    app = make("rec")
    create_collection(app)

    def fail_before_commit(event: BeforeCommit) -> None:
        if event.request.path.endswith("/r1"):
            raise RuntimeError("injected fault before commit")

    app.app.registry.registerHandler(fail_before_commit, (BeforeCommit,))
    app.put_json(f"{RECORDS}/r0", {"data": {}}, headers=ALICE, status=201)
    app.put_json(f"{RECORDS}/r1", {"data": {}}, headers=ALICE, status=500)
    assert stats(app).backlog == 0
    relay_until_quiet(app)
    ids = [e.payload.get("record_id") for e in listener(app, "rec").events]
    assert ids == [None, None, "r0"]


def test_no_double_delivery_when_the_lease_is_short(make):
    """Entries are deleted right after delivery, so a short lease does not resend them.

    On the old main, the deletes waited ``ack_delay`` (0.2 s) for a write to
    ride: with a shorter lease the relay delivered every event a second time.
    """
    lease = 0.05
    app = make("rec", **{"notifier.outbox.lease": str(lease), "notifier.relay.interval": "0.01"})
    relay = app.app.registry.notifier.relay
    create_collection(app)
    for n in range(10):
        app.put_json(f"{RECORDS}/r{n}", {"data": {}}, headers=ALICE, status=201)
    written = time.monotonic()
    rounds = 0

    def leases_ran_out() -> bool:
        nonlocal rounds
        relay.run_once()  # any entry still in the outbox would be delivered again here
        rounds += 1
        return rounds >= 5 and time.monotonic() - written > 3 * lease

    wait_for(leases_ran_out)
    ids = [e.event_id for e in listener(app, "rec").events]
    assert len(ids) == 12 and len(set(ids)) == 12
    assert stats(app).backlog == 0


def test_a_rolled_back_batch_delivers_nothing(make, monkeypatch):
    app = make("rec")
    create_collection(app)
    recorder = listener(app, "rec")
    recorder.events.clear()
    cls = session_class(app)
    original = cls.create
    calls = []

    def third_create_fails(self, resource, parent_id, obj):
        calls.append(obj["id"])
        if len(calls) == 3:
            raise RuntimeError("injected fault")
        return original(self, resource, parent_id, obj)

    monkeypatch.setattr(cls, "create", third_create_fails)
    requests = [
        {"method": "PUT", "path": f"/buckets/b/collections/c/records/r{n}", "body": {"data": {}}}
        for n in range(4)
    ]
    app.post_json("/v1/batch", {"requests": requests}, headers=ALICE, status=500)
    monkeypatch.undo()
    assert recorder.events == []
    assert stats(app).backlog == 0
    assert app.get(RECORDS, headers=ALICE).json["data"] == []


def test_a_failed_precondition_delivers_nothing(make):
    app = make("rec")
    create_collection(app)
    recorder = listener(app, "rec")
    recorder.events.clear()
    app.put_json(
        "/v1/buckets/b", {"data": {"x": 1}}, headers={**ALICE, "If-Match": '"1"'}, status=412
    )
    assert recorder.events == [] and stats(app).backlog == 0


def test_a_commit_that_fails_delivers_nothing(make, monkeypatch):
    app = make("rec")
    create_collection(app)
    recorder = listener(app, "rec")
    recorder.events.clear()

    def commit_fails(self):
        raise StorageError("disk full (injected)")

    monkeypatch.setattr(session_class(app), "commit", commit_fails)
    response = app.put_json(f"{RECORDS}/r1", {"data": {}}, headers=ALICE, status=503)
    monkeypatch.undo()
    assert response.json["errno"] == 201
    assert recorder.events == []
    app.get(f"{RECORDS}/r1", headers=ALICE, status=404)


def test_dead_letters_after_the_attempt_limit_then_replay(make, capsys):
    app = make(
        "broken",
        **{
            "notifier.event_listeners.broken.fail_first": "1000",
            "notifier.outbox.max_attempts": "3",
            **FAST_RETRIES,
        },
    )
    app.put_json("/v1/buckets/b", {}, headers=ALICE)
    relay_until_quiet(app)
    assert (stats(app).backlog, stats(app).dead) == (0, 1)
    with transaction(app.app.registry.notifier.storage) as session:
        [dead] = session.outbox_dead(10)
        assert dead.attempts == 3
        assert dead.last_error == "RuntimeError: refusing call 3 on purpose"
        assert session.outbox_replay("broken", 0) == 1
    assert (stats(app).backlog, stats(app).dead) == (1, 0)


def write_ini(tmp_path: Path, listener_settings: str) -> Path:
    ini = tmp_path / "app.ini"
    ini.write_text(f"""
[app:main]
use = egg:notifier
notifier.storage_url = notifier.sqlite
notifier.userid_hmac_secret = {SECRET}
notifier.relay.in_process = false
notifier.outbox.lease = 0.2
{listener_settings}

[server:main]
use = egg:waitress#main
host = 127.0.0.1
port = 0
""")
    return ini


def test_outbox_cli_lists_replays_and_purges_dead_letters(tmp_path, capsys):
    ini = write_ini(tmp_path, "")
    from notifier.app import configure_from_ini, shutdown
    from notifier.storage import OutboxEntry

    registry = configure_from_ini(str(ini)).registry
    with transaction(registry.notifier.storage) as session:
        session.outbox_add([OutboxEntry("e1", "gone", '{"action": "create"}', created_at=1)])
        session.outbox_retry(("e1", "gone"), "boom", None)
    shutdown(registry)
    assert notifier_main(["outbox", "stats", str(ini)]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert (stats["dead"], stats["backlog"]) == (1, 0)
    assert notifier_main(["outbox", "dead", str(ini)]) == 0
    [listed] = json.loads(capsys.readouterr().out)
    assert (listed["event_id"], listed["listener"], listed["last_error"]) == ("e1", "gone", "boom")
    assert notifier_main(["outbox", "replay", str(ini), "--listener", "other"]) == 0
    assert json.loads(capsys.readouterr().out) == {"replayed": 0}
    assert notifier_main(["outbox", "purge", str(ini)]) == 1  # no terminal to confirm
    assert capsys.readouterr().err == (
        f"notifier: --yes: delete all outbox dead letters of {ini}? needs a terminal to confirm,"
        " or --yes\n"
    )
    assert notifier_main(["outbox", "purge", str(ini), "--yes"]) == 0
    assert json.loads(capsys.readouterr().out) == {"purged": 1}


def test_a_relay_leaves_the_entries_of_listeners_it_did_not_load_pending(tmp_path, capsys):
    """Another INI's relay (one that has no 'elsewhere') neither claims nor dead-letters them,
    not even past its retention (e1 is from 1970)."""
    settings = """
notifier.outbox.max_attempts = 1
notifier.event_listeners = log
notifier.event_listeners.log.use = notifier.listeners.log
"""
    ini = write_ini(tmp_path, settings)
    from notifier.app import configure_from_ini, shutdown
    from notifier.delivery.relay import now_ms
    from notifier.storage import OutboxEntry

    registry = configure_from_ini(str(ini)).registry
    with transaction(registry.notifier.storage) as session:
        session.outbox_add(
            [
                OutboxEntry("e1", "elsewhere", '{"action": "create"}', created_at=1),
                OutboxEntry("ev-2", "log", make_event(2).to_json(), created_at=now_ms()),
            ]
        )
    shutdown(registry)
    for _ in range(3):
        assert notifier_main(["outbox", "relay", str(ini), "--once"]) == 0
    capsys.readouterr()
    assert notifier_main(["outbox", "stats", str(ini)]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert (stats["backlog"], stats["dead"]) == (1, 0)
    registry = configure_from_ini(str(ini)).registry
    with transaction(registry.notifier.storage) as session:
        [waiting] = session.outbox_claim(10**15, 1, 10, listeners=["elsewhere"])
    shutdown(registry)
    assert (waiting.event_id, waiting.attempts, waiting.last_error) == ("e1", 0, None)


@pytest.mark.slow  # a fault run: a server SIGKILLed inside its listener
def test_events_survive_a_server_killed_between_commit_and_listeners(tmp_path):
    """SIGKILL the server inside its listener; a relay started afterwards delivers."""
    output = tmp_path / "events.jsonl"
    ini = write_ini(
        tmp_path,
        f"""
notifier.event_listeners = file
notifier.event_listeners.file.use = tests.listeners.file_recorder
notifier.event_listeners.file.path = {output}
notifier.event_listeners.file.hang = true
""",
    )
    from notifier.dev.redis_server import free_port

    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    server = subprocess.Popen(
        [NOTIFIER, "serve", str(ini), "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: server_answers(port), timeout=30)
        _put_bucket(port)
        wait_for(Path(f"{output}.entered").exists)
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)
    assert not output.exists()
    wait_for(lambda: leases_over(tmp_path / "notifier.sqlite"))  # the dead server's leases
    env["NOTIFIER_EVENT_LISTENERS_FILE_HANG"] = "false"
    subprocess.run(
        [NOTIFIER, "outbox", "relay", str(ini), "--once"],
        env=env,
        check=True,
        timeout=60,
        capture_output=True,
    )
    [line] = output.read_text().splitlines()
    event = json.loads(line)
    assert (event["action"], event["resource_name"], event["bucket_id"]) == (
        "create",
        "bucket",
        "b",
    )
    assert event["event_id"] == Path(f"{output}.entered").read_text()


def leases_over(path: Path) -> bool:
    """Every outbox entry of the SQLite file at ``path`` is due: no lease holds it."""
    with contextlib.closing(sqlite3.connect(path)) as connection:
        [(latest,)] = connection.execute("SELECT MAX(next_attempt_at) FROM outbox").fetchall()
    return latest is not None and latest <= time.time_ns() // 1_000_000


def _put_bucket(port: int) -> None:
    import threading
    import urllib.request

    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/buckets/b",
        method="PUT",
        data=b"{}",
        headers={**ALICE, "Content-Type": "application/json"},
    )
    # The response never comes: the listener hangs until the process is killed.
    threading.Thread(
        target=lambda: _ignore(urllib.request.urlopen, request, timeout=30), daemon=True
    ).start()


def _ignore(function, *args, **kwargs):
    with contextlib.suppress(OSError):
        function(*args, **kwargs)


def test_heartbeat_reports_the_outbox_backlog(make):
    app = make("flaky", **{"notifier.event_listeners.flaky.fail_first": "5"})
    app.put_json("/v1/buckets/b", {}, headers=ALICE)
    outbox = app.get("/v1/__heartbeat__").json["outbox"]
    assert outbox["backlog"] == 1 and outbox["dead"] == 0
    assert outbox["oldest_age_seconds"] >= 0


def test_read_events_skip_the_outbox_and_are_not_dropped_while_writes_wait(make, monkeypatch):
    """On the old main, a listener with failed writes pending silently lost its read events."""
    app = make(
        "rec",
        **{"notifier.event_listeners.rec.actions": "create read", "notifier.outbox.lease": "60"},
    )
    rec = listener(app, "rec")
    added = []
    cls = session_class(app)
    original = cls.outbox_add
    monkeypatch.setattr(cls, "outbox_add", lambda self, es: added.extend(es) or original(self, es))
    rec.fail_first = 1  # the bucket's create fails: the listener is backlogged
    app.put_json("/v1/buckets/b", {}, headers=ALICE, status=201)
    assert stats(app).backlog == 1
    added.clear()
    app.get("/v1/buckets/b", headers=ALICE, status=200)
    assert [(e.action, e.payload["bucket_id"]) for e in rec.events] == [("read", "b")]
    assert added == [] and stats(app).backlog == 1
