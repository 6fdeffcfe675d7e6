"""The outbox's outage operations, on every backend: release without an attempt, expiry."""

from __future__ import annotations

from notifier.storage import OutboxEntry, Storage, transaction
from tests.storage_helpers import read

NOW = 1_000_000


def entry(event_id: str, listener: str, created: int = 1) -> OutboxEntry:
    return OutboxEntry(event_id, listener, "{}", next_attempt_at=0, created_at=created)


def test_release_puts_entries_back_without_counting_an_attempt(storage: Storage) -> None:
    with transaction(storage) as session:
        session.outbox_add([entry("a1", "a"), entry("a2", "a")])
    with transaction(storage) as session:
        assert [e.event_id for e in session.outbox_claim(NOW, 500, 100)] == ["a1", "a2"]
        session.outbox_release([("a1", "a"), ("a2", "a")], "Unavailable: down", NOW + 100)
    with transaction(storage) as session:
        assert session.outbox_claim(NOW + 99, 500, 100) == []
        [first, second] = session.outbox_claim(NOW + 100, 500, 100)
    assert (first.attempts, first.last_error, second.attempts) == (0, "Unavailable: down", 0)


def test_expire_dead_letters_what_is_older_than_the_cutoff(storage: Storage) -> None:
    with transaction(storage) as session:
        session.outbox_add([entry("a1", "a", 10), entry("b1", "b", 20), entry("a2", "a", 30)])
        assert session.outbox_oldest() == {"a": 10, "b": 20}
        assert session.outbox_expire(25, "older than the retention") == 2
        assert session.outbox_oldest() == {"a": 30}
    dead = read(storage, lambda s: s.outbox_dead(10))
    assert [(e.event_id, e.last_error) for e in dead] == [
        ("a1", "older than the retention"),
        ("b1", "older than the retention"),
    ]
