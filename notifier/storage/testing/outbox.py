"""Conformance, part three: the outbox and savepoints."""

from __future__ import annotations

from typing import Any

import pytest

from notifier.storage import OutboxEntry, Selection, Storage, transaction
from notifier.storage.testing.helpers import RECORDS, read

NOW = 1_000_000


def entry(event_id: str, listener: str, due: int = 0, created: int = 1) -> OutboxEntry:
    return OutboxEntry(event_id, listener, f'{{"event_id": "{event_id}"}}', next_attempt_at=due,
                       created_at=created)  # fmt: skip


def add(storage: Storage, *entries: OutboxEntry) -> None:
    with transaction(storage) as session:
        session.outbox_add(entries)


def claim(storage: Storage, now: int = NOW, lease: int = 500, limit: int = 100) -> list[str]:
    with transaction(storage) as session:
        return [e.event_id for e in session.outbox_claim(now, lease, limit)]


def keys(*event_ids_and_listeners: str) -> list[tuple[str, str]]:
    return [(each, each[0]) for each in event_ids_and_listeners]


# --- claims ----------------------------------------------------------------------------


def dead_letters(storage: Storage, *entries: OutboxEntry) -> None:
    add(storage, *entries)
    with transaction(storage) as session:
        for each in entries:
            session.outbox_retry((each.event_id, each.listener), "boom", None)


def everything(session: Any) -> tuple[list[str], list[str]]:
    records = [obj["id"] for obj in session.list("record", RECORDS, Selection(sorting=[]))]
    outbox = [e.event_id for e in session.outbox_claim(NOW, 1, 100)]
    return sorted(records), outbox


class OutboxConformance:
    """Pending deliveries: claims and leases, outcomes, dead letters; savepoints."""

    def test_claim_returns_due_entries_in_outbox_order_with_their_fields(
        self, storage: Storage
    ) -> None:
        add(storage, entry("a1", "a", created=7), entry("b1", "b"), entry("a2", "a"))
        with transaction(storage) as session:
            claimed = session.outbox_claim(NOW, 500, 100)
        assert [(e.event_id, e.listener) for e in claimed] == [
            ("a1", "a"),
            ("b1", "b"),
            ("a2", "a"),
        ]
        assert [e.seq for e in claimed] == sorted({e.seq for e in claimed})
        first = claimed[0]
        assert (first.message, first.attempts, first.created_at) == ('{"event_id": "a1"}', 0, 7)
        assert (first.last_error, first.dead) == (None, False)

    def test_a_claim_for_named_listeners_leaves_the_others_untouched(
        self, storage: Storage
    ) -> None:
        add(storage, entry("a1", "a"), entry("b1", "b"), entry("c1", "c"), entry("a2", "a"))
        with transaction(storage) as session:
            claimed = session.outbox_claim(NOW, 500, 100, listeners=["a", "c", "unknown"])
        assert [e.event_id for e in claimed] == ["a1", "c1", "a2"]
        with transaction(storage) as session:
            assert session.outbox_claim(NOW, 500, 100, listeners=[]) == []
            # b was not leased: still due at once, for a relay that has it.
            [b1] = session.outbox_claim(NOW, 500, 100, listeners=["b"])
        assert (b1.event_id, b1.attempts, b1.next_attempt_at) == ("b1", 0, 0)

    def test_a_claim_leases_its_entries_until_the_lease_runs_out(self, storage: Storage) -> None:
        add(storage, entry("a1", "a"), entry("a2", "a"))
        assert claim(storage, lease=500) == ["a1", "a2"]
        assert claim(storage, now=NOW + 499) == []
        assert claim(storage, now=NOW + 500) == ["a1", "a2"]

    def test_a_listener_never_gets_an_entry_ahead_of_an_earlier_pending_one(
        self, storage: Storage
    ) -> None:
        add(
            storage,
            entry("a1", "a"),
            entry("a2", "a", due=NOW + 10),
            entry("a3", "a"),
            entry("b1", "b", due=NOW + 10),
            entry("b2", "b"),
            entry("c1", "c"),
        )
        assert claim(storage) == ["a1", "c1"]
        assert claim(storage, now=NOW + 10) == ["b1", "b2"], "a1 is leased: a waits"
        with transaction(storage) as session:
            session.outbox_done([("a1", "a")])
        assert claim(storage, now=NOW + 10) == ["a2", "a3"]

    def test_the_claim_limit_counts_per_listener(self, storage: Storage) -> None:
        add(
            storage,
            *(entry(f"a{n}", "a") for n in range(3)),
            *(entry(f"b{n}", "b") for n in range(3)),
        )
        assert claim(storage, limit=2) == ["a0", "a1", "b0", "b1"]
        assert claim(storage, now=NOW + 500, limit=2) == ["a0", "a1", "b0", "b1"]

    def test_a_rolled_back_claim_leases_nothing(self, storage: Storage) -> None:
        add(storage, entry("a1", "a"))
        session = storage.session(write=True)
        assert [e.event_id for e in session.outbox_claim(NOW, 500, 100)] == ["a1"]
        session.rollback()
        assert claim(storage) == ["a1"]

    # --- outcomes --------------------------------------------------------------------------

    def test_done_removes_only_the_named_entries(self, storage: Storage) -> None:
        add(storage, entry("a1", "a"), entry("a2", "a"), entry("b1", "b"))
        with transaction(storage) as session:
            session.outbox_done([("a1", "a"), ("a2", "b"), ("zz", "a")])
            session.outbox_done([])
        assert claim(storage) == ["a2", "b1"]

    def test_release_postpones_entries_without_counting_an_attempt(self, storage: Storage) -> None:
        add(storage, entry("a1", "a"), entry("a2", "a"))
        assert claim(storage) == ["a1", "a2"]
        with transaction(storage) as session:
            session.outbox_release([("a1", "a"), ("a2", "a")], "Unavailable: down", NOW + 100)
        assert claim(storage, now=NOW + 99) == []
        with transaction(storage) as session:
            [first, second] = session.outbox_claim(NOW + 100, 500, 100)
        assert (first.attempts, first.last_error, second.attempts) == (0, "Unavailable: down", 0)

    def test_expire_dead_letters_what_is_older_than_the_cutoff(self, storage: Storage) -> None:
        add(storage, entry("a1", "a", created=10), entry("b1", "b", created=20))
        add(storage, entry("a2", "a", created=30))
        with transaction(storage) as session:
            assert session.outbox_oldest() == {"a": 10, "b": 20}
            assert session.outbox_expire(25, "too old") == 2
            assert session.outbox_oldest() == {"a": 30}
        dead = read(storage, lambda s: s.outbox_dead(10))
        assert [(e.event_id, e.last_error) for e in dead] == [("a1", "too old"), ("b1", "too old")]

    def test_expire_for_named_listeners_leaves_the_others_pending(self, storage: Storage) -> None:
        add(storage, entry("a1", "a", created=10), entry("b1", "b", created=10))
        with transaction(storage) as session:
            assert session.outbox_expire(25, "too old", listeners=[]) == 0
            assert session.outbox_expire(25, "too old", listeners=["b", "unknown"]) == 1
            assert session.outbox_oldest() == {"a": 10}

    def test_retry_counts_the_attempt_and_postpones_the_entry(self, storage: Storage) -> None:
        add(storage, entry("a1", "a"), entry("a2", "a"))
        with transaction(storage) as session:
            session.outbox_retry(("a1", "a"), "ConnectionError: down", NOW + 100)
        assert claim(storage) == []
        with transaction(storage) as session:
            [first, second] = session.outbox_claim(NOW + 100, 500, 100)
        assert (first.event_id, first.attempts, first.last_error) == (
            "a1",
            1,
            "ConnectionError: down",
        )
        assert (second.event_id, second.attempts) == ("a2", 0)

    def test_retry_without_a_next_attempt_dead_letters_the_entry(self, storage: Storage) -> None:
        add(storage, entry("a1", "a", created=5), entry("a2", "a", created=6), entry("b1", "b"))
        with transaction(storage) as session:
            session.outbox_retry(("a1", "a"), "boom", None)
        assert claim(storage) == ["a2", "b1"], "a dead letter holds nothing back"
        with transaction(storage, write=False) as session:
            [dead] = session.outbox_dead(10)
            stats = session.outbox_stats()
            pending = (session.outbox_pending("a"), session.outbox_pending("b"))
        assert (dead.event_id, dead.attempts, dead.last_error, dead.dead) == ("a1", 1, "boom", True)
        assert (stats.backlog, stats.oldest_created_at, stats.dead) == (2, 1, 1)
        assert pending == (1, 1)

    def test_stats_of_an_empty_outbox(self, storage: Storage) -> None:
        stats = read(storage, lambda s: s.outbox_stats())
        assert (stats.backlog, stats.oldest_created_at, stats.dead) == (0, None, 0)
        assert read(storage, lambda s: s.outbox_pending("a")) == 0
        assert read(storage, lambda s: s.outbox_stats_by_listener()) == {}

    def test_stats_by_listener(self, storage: Storage) -> None:
        add(storage, entry("a1", "a", created=7), entry("a2", "a", created=8))
        add(storage, entry("b1", "b", created=9), entry("c1", "c", created=3))
        with transaction(storage) as session:
            session.outbox_retry(("b1", "b"), "boom", None)
            session.outbox_retry(("a1", "a"), "boom", None)
        found = read(storage, lambda s: s.outbox_stats_by_listener())
        assert {name: (s.backlog, s.oldest_created_at, s.dead) for name, s in found.items()} == {
            "a": (1, 8, 1),
            "b": (0, None, 1),
            "c": (1, 3, 0),
        }

    def test_dead_lists_in_outbox_order_up_to_the_limit(self, storage: Storage) -> None:
        dead_letters(storage, entry("a1", "a"), entry("b1", "b"), entry("a2", "a"))
        assert [e.event_id for e in read(storage, lambda s: s.outbox_dead(2))] == ["a1", "b1"]

    def test_replay_one_listener_makes_its_dead_letters_due_again(self, storage: Storage) -> None:
        dead_letters(storage, entry("a1", "a"), entry("b1", "b"))
        with transaction(storage) as session:
            assert session.outbox_replay("a", NOW) == 1
            assert session.outbox_replay("nobody", NOW) == 0
        with transaction(storage) as session:
            [replayed] = session.outbox_claim(NOW, 500, 100)
        assert (replayed.event_id, replayed.attempts, replayed.dead) == ("a1", 0, False)
        assert [e.event_id for e in read(storage, lambda s: s.outbox_dead(10))] == ["b1"]

    def test_replay_all_and_purge(self, storage: Storage) -> None:
        dead_letters(storage, entry("a1", "a"), entry("b1", "b"), entry("c1", "c"))
        with transaction(storage) as session:
            assert session.outbox_purge("c") == 1
            assert session.outbox_replay(None, NOW) == 2
        assert claim(storage) == ["a1", "b1"]
        dead_letters(storage, entry("d1", "d"), entry("e1", "e"))
        with transaction(storage) as session:
            assert session.outbox_purge(None) == 2
        assert read(storage, lambda s: s.outbox_stats()).dead == 0

    def test_an_event_goes_to_a_listener_once(self, storage: Storage) -> None:
        add(storage, entry("a1", "a"), entry("a1", "b"))
        with pytest.raises(Exception), transaction(storage) as session:  # noqa: B017, PT011
            session.outbox_add([entry("a1", "a")])
        assert claim(storage) == ["a1", "a1"]

    # --- savepoints ------------------------------------------------------------------------

    def test_rollback_to_a_savepoint_keeps_the_work_before_it(self, storage: Storage) -> None:
        with transaction(storage) as session:
            session.create("record", RECORDS, {"id": "r1"})
            session.outbox_add([entry("e1", "a")])
            session.savepoint("subrequest_1")
            session.create("record", RECORDS, {"id": "r2"})
            session.outbox_add([entry("e2", "a")])
            session.set_permissions("/x", {"write": {"bob"}})
            session.rollback_to("subrequest_1")
            session.create("record", RECORDS, {"id": "r3"})
            session.outbox_add([entry("e3", "a")])
        assert read(storage, everything) == (["r1", "r3"], ["e1", "e3"])
        assert read(storage, lambda s: s.get_permissions("/x")) == {}

    def test_release_keeps_the_work_and_nested_savepoints_unwind(self, storage: Storage) -> None:
        with transaction(storage) as session:
            session.savepoint("outer")
            session.create("record", RECORDS, {"id": "r1"})
            session.savepoint("inner")
            session.create("record", RECORDS, {"id": "r2"})
            session.release("inner")
            session.savepoint("again")
            session.create("record", RECORDS, {"id": "r3"})
            session.rollback_to("again")
            session.release("outer")
            session.savepoint("outer")  # a released name can be used again
            session.create("record", RECORDS, {"id": "r4"})
            session.rollback_to("outer")
        assert read(storage, everything) == (["r1", "r2"], [])

    def test_a_savepoint_as_the_first_statement_then_a_rollback(self, storage: Storage) -> None:
        with pytest.raises(RuntimeError), transaction(storage) as session:
            session.savepoint("subrequest_0")
            session.create("record", RECORDS, {"id": "r1"})
            session.release("subrequest_0")
            raise RuntimeError("the batch failed")
        assert read(storage, everything) == ([], [])
