"""What only PostgreSQL's outbox does: relays sharing a backlog, waking on NOTIFY."""

from __future__ import annotations

import json
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from notifier.delivery.filters import EventFilter
from notifier.delivery.loader import LoadedListener
from notifier.delivery.relay import Relay
from notifier.retry import RetryPolicy
from notifier.storage import OutboxEntry, transaction
from notifier.storage.postgresql import PostgreSQLStorage, migrate_from_settings
from notifier.storage.testing.helpers import in_thread
from tests.conftest import SECRET, with_search_path
from tests.helpers import start, stop, wait_for

EVERYTHING: EventFilter = lambda event: True  # noqa: E731


def entry(event_id: str, listener: str, due: int = 0) -> OutboxEntry:
    message = json.dumps({"action": "create", "event_id": event_id})
    return OutboxEntry(event_id, listener, message, next_attempt_at=due, created_at=1)


@pytest.fixture
def storage(postgresql_migrated_url: str) -> Iterator[PostgreSQLStorage]:
    backend = PostgreSQLStorage(postgresql_migrated_url, pool_size=4)
    yield backend
    backend.close()


def claim(storage: PostgreSQLStorage) -> list[str]:
    with transaction(storage) as session:
        return [e.event_id for e in session.outbox_claim(10**13, 1000, 100)]


def test_a_row_another_claim_holds_counts_as_not_due(storage: PostgreSQLStorage) -> None:
    with transaction(storage) as session:
        session.outbox_add([entry("a1", "a"), entry("a2", "a"), entry("a3", "a"), entry("b1", "b")])
    holder = storage.session(write=True)
    holder._execute("SELECT 1 FROM outbox WHERE event_id = 'a2' FOR UPDATE")
    try:
        started = time.monotonic()
        assert in_thread(lambda: claim(storage)) == ["a1", "b1"], "a3 waits behind a2"
        assert time.monotonic() - started < 2, "SKIP LOCKED: the claim did not wait"
    finally:
        holder.rollback()
    with transaction(storage) as session:
        session.outbox_done([("a1", "a")])
    assert claim(storage) == ["a2", "a3"]


def recording_relay(url: str, delivered: list[tuple[str, str]]) -> tuple[Relay, PostgreSQLStorage]:
    """A relay on a storage of its own, for listeners a and b, appending what it delivers."""
    storage = PostgreSQLStorage(url, pool_size=2)
    listeners = [
        LoadedListener(name, lambda event, name=name: delivered.append((name, event.event_id)),
                       EVERYTHING)
        for name in ("a", "b")
    ]  # fmt: skip
    return Relay(storage, listeners, RetryPolicy(), lease=30.0), storage


def test_two_relays_drain_one_backlog_delivering_each_entry_once_in_order(
    postgresql_migrated_url: str, storage: PostgreSQLStorage
) -> None:
    total = 3000
    expected = [entry(f"{n:05d}", "ab"[n % 2]) for n in range(total)]
    with transaction(storage) as session:
        session.outbox_add(expected)
    delivered: list[tuple[str, str]] = []  # list.append is atomic: one shared log
    relays = [recording_relay(postgresql_migrated_url, delivered) for _ in range(2)]
    stop = threading.Event()
    threads = [
        threading.Thread(target=relay.run_forever, args=(stop, 0.05), daemon=True)
        for relay, _ in relays
    ]
    started = time.monotonic()
    try:
        for thread in threads:
            thread.start()
        wait_for(lambda: len(delivered) >= total, timeout=60)
    finally:
        # Joined relays have finished every delivery they began: a double shows by now.
        stop.set()
        for thread in threads:
            thread.join(timeout=5)
        for _, own in relays:
            own.close()
    assert sorted(delivered) == sorted((e.listener, e.event_id) for e in expected)
    for name in "ab":
        mine = [event_id for listener, event_id in delivered if listener == name]
        assert mine == sorted(mine), f"listener {name} got its events out of order"
    assert in_thread(lambda: claim(storage)) == []
    print(f"two relays delivered {total} entries in {time.monotonic() - started:.2f}s")


def test_a_waiting_relay_wakes_when_a_due_entry_commits(storage: PostgreSQLStorage) -> None:
    delivered: list[tuple[str, str]] = []
    relay, own = recording_relay(storage.waiter.conninfo, delivered)
    stop = threading.Event()
    thread = threading.Thread(target=relay.run_forever, args=(stop, 30.0), daemon=True)
    thread.start()
    try:
        wait_for(lambda: own.waiter._connection is not None)  # listening: it can be woken
        with transaction(storage) as session:
            session.outbox_add([entry("e1", "a")])
        committed = time.monotonic()
        wait_for(lambda: delivered, timeout=5)
        assert delivered == [("a", "e1")]
        assert time.monotonic() - committed < 1, "woken by NOTIFY, not by the 30 s interval"
    finally:
        stop.set()
        stopping = time.monotonic()
        thread.join(timeout=5)
        own.close()
    assert time.monotonic() - stopping < 1, "a waiting relay notices its stop event"


def test_leased_entries_and_rolled_back_ones_wake_no_relay(storage: PostgreSQLStorage) -> None:
    assert storage.wait_for_outbox(0) is False  # listening from now on
    with transaction(storage) as session:
        session.outbox_add([OutboxEntry("e1", "a", "{}", next_attempt_at=2000, created_at=1000)])
    session = storage.session(write=True)
    session.outbox_add([entry("e2", "a")])
    session.rollback()
    assert storage.wait_for_outbox(0.3) is False


def test_replay_wakes_a_relay(storage: PostgreSQLStorage) -> None:
    with transaction(storage) as session:
        session.outbox_add([OutboxEntry("e1", "a", "{}", next_attempt_at=2000, created_at=1000)])
        session.outbox_retry(("e1", "a"), "boom", None)
    assert storage.wait_for_outbox(0) is False
    with transaction(storage) as session:
        assert session.outbox_replay(None, 0) == 1
    assert storage.wait_for_outbox(2) is True
    assert storage.wait_for_outbox(0.1) is False, "one wake-up per commit"


def test_a_replay_in_another_schema_of_the_database_wakes_no_relay_here(
    storage: PostgreSQLStorage, postgresql_url: str
) -> None:
    """Notifications are per database: each schema's relays have a channel of their own."""
    schema = f"notifier_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgresql_url, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    try:
        other_url = with_search_path(postgresql_url, schema)
        migrate_from_settings({"notifier.storage_url": other_url})
        other = PostgreSQLStorage(other_url, pool_size=1)
        try:
            assert other.channel != storage.channel
            assert other.channel.startswith("notifier_outbox_") and len(other.channel) <= 63
            assert storage.wait_for_outbox(0) is False  # listening from now on
            with transaction(other) as session:
                session.outbox_add([entry("e1", "a")])  # due at once: NOTIFY
            assert other.wait_for_outbox(0) is False
            with transaction(other) as session:
                session.outbox_add([entry("e2", "a")])
            assert other.wait_for_outbox(2) is True, "the other schema's relay is woken"
            assert storage.wait_for_outbox(0.3) is False, "this schema's relay is not"
        finally:
            other.close()
    finally:
        with psycopg.connect(postgresql_url, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


def test_a_lost_listen_connection_is_polling_then_listening_again(
    storage: PostgreSQLStorage, postgresql_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    storage.wait_for_outbox(0)
    connection = storage.waiter._connection
    assert connection is not None
    pid = connection.info.backend_pid
    with psycopg.connect(postgresql_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        # pg_terminate_backend only signals: wait until the backend has gone.
        gone = "SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = %s"
        wait_for(lambda: admin.execute(gone, (pid,)).fetchone()[0])
    assert storage.wait_for_outbox(0.2) is False
    assert f"LISTEN {storage.channel} failed, polling instead" in caplog.text
    storage.wait_for_outbox(0)
    with transaction(storage) as session:
        session.outbox_add([entry("e1", "a")])
    assert storage.wait_for_outbox(2) is True


def test_sigterm_stops_a_waiting_relay_process_long_before_its_interval(
    postgresql_migrated_url: str, tmp_path: Path
) -> None:
    ini = tmp_path / "relay.ini"
    ini.write_text(f"""[app:main]
use = egg:notifier
notifier.storage_backend = notifier.storage.postgresql
notifier.storage_url = {postgresql_migrated_url.replace("%", "%%")}
notifier.userid_hmac_secret = {SECRET}
notifier.relay.interval = 30
notifier.event_listeners = rec
notifier.event_listeners.rec.use = tests.listeners.recorder
""")
    relay = start(["-m", "notifier.cli", "outbox", "relay", str(ini)])
    try:
        wait_for(lambda: "outbox relay running" in relay.output, timeout=30)
        relay.send_signal(signal.SIGTERM)
        sent = time.monotonic()
        relay.wait(timeout=20)
        # Stopped by the signal, not by the next round 30 s later; the margin is
        # for a loaded machine (the process also closes its pools on the way out).
        assert time.monotonic() - sent < 10
    finally:
        output = stop(relay)
    assert relay.poll() == 0, output


def test_a_closed_storage_stops_listening(postgresql_migrated_url: str) -> None:
    storage = PostgreSQLStorage(postgresql_migrated_url, pool_size=1)
    storage.wait_for_outbox(0)
    storage.close()
    started = time.monotonic()
    assert storage.wait_for_outbox(0.1) is False
    assert time.monotonic() - started >= 0.1
    assert storage.waiter._connection is None, "a relay thread left running does not reconnect"
