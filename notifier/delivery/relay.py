"""Durable pending deliveries and the relay that retries them.

Before a write commits, each event is written to the outbox once for every
listener whose filter matches it, in the same transaction.  After commit the
dispatcher delivers and removes them.  Whatever is left (a listener raised,
the process died) the relay delivers later: per listener in outbox order,
with exponential backoff and jitter, until the attempt limit dead-letters
the entry where ``notifier outbox`` can list, replay or purge it.  A target
that is down pauses its listener without using up attempts
(``notifier.delivery.outages``); entries older than the retention are dead
letters too.  Observers (``notifier.delivery.observers``) hear of each
call to a listener and of each entry's outcome.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from itertools import groupby
from typing import Any

from notifier.delivery.events import ResourceChanged
from notifier.delivery.loader import LoadedListener
from notifier.delivery.observers import Observers, Outcome
from notifier.delivery.outages import PROBE_INTERVAL, Outages, is_outage
from notifier.delivery.outcomes import Rejected
from notifier.delivery.standin import from_outbox
from notifier.logs.context import request_id_scope
from notifier.retry import RetryPolicy
from notifier.storage import OutboxEntry, OutboxSession, Storage, transaction

log = logging.getLogger(__name__)

#: The longest a relay waits without looking at its stop event.
STOP_CHECK = 0.25


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def retry_at(policy: RetryPolicy, failed: int, now: int) -> int | None:
    """When (ms) the attempt after ``failed`` failed ones is due; None makes a dead letter."""
    delay = policy.next_delay(failed)
    return None if delay is None else now + int(delay * 1000)


def common_request_id(events: Sequence[ResourceChanged]) -> str | None:
    """The request id the events share, or None when they come from several (or none)."""
    ids = {event.request_id for event in events}
    return ids.pop() if len(ids) == 1 else None


def describe(error: BaseException | str) -> str:
    if isinstance(error, str):
        return error[:2000]
    return f"{type(error).__name__}: {error}"[:2000]


def settle(
    session: OutboxSession,
    policy: RetryPolicy,
    key: tuple[str, str],
    attempts: int,
    error: BaseException | str,
    now: int,
) -> Outcome:
    """Record a failed delivery of the entry ``key`` (after ``attempts`` earlier ones).

    ``Rejected`` dead-letters it at once; any other failure retries it with
    backoff until the attempt limit dead-letters it.  Returns which it was.
    """
    due = None if isinstance(error, Rejected) else retry_at(policy, attempts + 1, now)
    if due is None:
        log.error(
            "listener %s: event %s dead-lettered after %d attempt(s): %s",
            key[1],
            key[0],
            attempts + 1,
            describe(error),
        )
    session.outbox_retry(key, describe(error), due)
    return "retry" if due is not None else "dead"


class Relay:
    """Delivers what the outbox still holds, for the listeners this process loaded.

    Entries of a listener it did not load are none of its business: it never
    claims them, so they wait, attempts untouched, for a relay that has it.
    """

    def __init__(
        self,
        storage: Storage,
        listeners: Sequence[LoadedListener],
        policy: RetryPolicy,
        batch_size: int = 100,
        lease: float = 30.0,
        retention: float | None = None,
        registry: Any = None,
        observers: Observers | None = None,
    ) -> None:
        self.storage = storage
        #: The app's observers (plugins add theirs while the app is configured).
        self.observers = Observers() if observers is None else observers
        #: The app's registry, that the stand-in requests of the events carry.
        self.registry = registry
        #: The app's list: listeners registered later (``config.add_listener``) join it.
        self.listeners = listeners
        self.policy = policy
        self.lease = lease
        self.batch_size = batch_size
        self.retention = retention
        self.outages = Outages()
        self._expired_at = 0.0

    def run_once(self) -> int:
        """Claim what is due, deliver it, record the outcome; return how many were delivered."""
        with transaction(self.storage) as session:
            self._expire(session)
            # Only the listeners this process loaded: another relay (another INI,
            # a worker host) delivers the rest, which stay pending meanwhile.
            names = [loaded.name for loaded in self.listeners]
            claimed = session.outbox_claim(
                now_ms(), int(self.lease * 1000), self.batch_size, listeners=names
            )
        delivered = 0
        ordered = sorted(claimed, key=lambda entry: (entry.listener, entry.seq))
        for name, entries in groupby(ordered, key=lambda entry: entry.listener):
            delivered += self._deliver(name, list(entries))
        return delivered

    def _expire(self, session: OutboxSession) -> None:
        """Dead-letter entries older than the retention; at most a few times per retention.

        Only this process's listeners: another INI may keep its entries longer.
        """
        if self.retention is None:
            return
        if time.monotonic() - self._expired_at < min(60.0, self.retention / 4):
            return
        self._expired_at = time.monotonic()
        cutoff = now_ms() - int(self.retention * 1000)
        reason = f"older than notifier.outbox.retention ({self.retention:g} s)"
        names = [loaded.name for loaded in self.listeners]
        expired = session.outbox_expire(cutoff, reason, listeners=names)
        if expired:
            log.error("dead-lettered %d outbox entries %s", expired, reason)

    def _deliver(self, name: str, entries: list[OutboxEntry]) -> int:
        loaded = next(each for each in self.listeners if each.name == name)
        if name in self.outages and len(entries) > 1:
            # Probe with the oldest entry alone; the rest follow once it went through.
            probed = self._deliver(name, entries[:1])
            if name in self.outages:
                self._release(entries[1:], "waiting for a probe of the oldest entry")
                return probed
            return probed + self._deliver(name, entries[1:])
        events = [from_outbox(entry.message, self.registry) for entry in entries]
        started = time.perf_counter()
        try:
            # The listener's log lines (and ours) name the request, when all came from one.
            with request_id_scope(common_request_id(events)):
                loaded.deliver(events)
        except Exception as error:
            if self.observers:
                self.observers.called(name, time.perf_counter() - started)
            if is_outage(error):
                self.outages.down(name, describe(error))
                self._release(entries, describe(error))
                if self.observers:
                    self.observers.settled(name, "retry", len(entries))
                return 0
            self.outages.up(name)
            if isinstance(error, Rejected) and len(entries) > 1:
                # Which one was refused? Each on its own: only that one is a dead letter.
                return sum(self._deliver(name, [entry]) for entry in entries)
            log.warning(
                "listener %s failed again on %d event(s) from %s (request %s): %s",
                name,
                len(entries),
                entries[0].event_id,
                events[0].request_id or "-",
                describe(error),
            )
            self._failed(entries, error)
            return 0
        if self.observers:
            self.observers.called(name, time.perf_counter() - started)
        self.outages.up(name)
        with transaction(self.storage) as session:
            session.outbox_done([(entry.event_id, entry.listener) for entry in entries])
        if self.observers:
            self.observers.settled(name, "ok", len(entries))
        log.info("relay delivered %d event(s) to listener %s", len(entries), name)
        return len(entries)

    def _release(self, entries: list[OutboxEntry], error: str) -> None:
        """Back to the outbox, attempts untouched, due at the next probe."""
        due = now_ms() + int(PROBE_INTERVAL * 1000)
        with transaction(self.storage) as session:
            session.outbox_release([(e.event_id, e.listener) for e in entries], error, due)

    def _failed(self, entries: list[OutboxEntry], error: BaseException | str) -> None:
        now = now_ms()
        with transaction(self.storage) as session:
            outcomes = [
                (
                    entry.listener,
                    settle(
                        session,
                        self.policy,
                        (entry.event_id, entry.listener),
                        entry.attempts,
                        error,
                        now,
                    ),
                )
                for entry in entries
            ]
        for listener, outcome in outcomes:
            self.observers.settled(listener, outcome, 1)

    def run_forever(self, stop: threading.Event, interval: float) -> None:
        """Relay until ``stop`` is set; a storage failure waits a round, never crashes.

        Between rounds it waits ``interval`` seconds, or less when the storage
        says new entries are due (``Storage.wait_for_outbox``).
        """
        self.storage.wait_for_outbox(0)  # start listening before the first round
        while not stop.is_set():
            try:
                busy = self.run_once() >= self.batch_size
            except Exception:
                log.exception("outbox relay round failed; retrying in %.1fs", interval)
                busy = False
            if not busy:
                # A paused listener is probed on time however long the interval is.
                self._pause(stop, min(interval, PROBE_INTERVAL) if self.outages else interval)

    def _pause(self, stop: threading.Event, interval: float) -> None:
        """Wait out ``interval`` in slices, so setting ``stop`` is noticed within one."""
        deadline = time.monotonic() + interval
        while not stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0 or self.storage.wait_for_outbox(min(left, STOP_CHECK)):
                return

    def start_thread(self, interval: float) -> tuple[threading.Event, threading.Thread]:
        """Run the relay in a daemon thread of this process; set the event to stop it."""
        stop = threading.Event()
        thread = threading.Thread(
            target=self.run_forever, args=(stop, interval), name="notifier-relay", daemon=True
        )
        thread.start()
        return stop, thread
