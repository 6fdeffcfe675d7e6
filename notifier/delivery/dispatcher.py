"""The synchronous dispatcher: events of a committed write go to the INI's listeners.

Before commit, the request's changes become events and, for each listener
whose filter matches, a write's event goes into the outbox, inside the
transaction.  After commit, each listener gets its events in INI order, in
the request thread; then the dispatcher, which owns those outbox entries,
deletes the delivered ones and reschedules the failed ones, in a small
transaction of its own.  A listener that raises is logged and left to the
relay; it neither fails the response nor stops the other listeners.

Read events (a listener's ``actions = read``) are delivered once, after the
response's commit, and never touch the outbox: they are not retried, and a
listener's backlog of writes does not hold them back.

Observers (``notifier.delivery.observers``) hear, after commit, which events
went to which listener, how long each call took and how each event ended.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from notifier.delivery.changes import AfterCommit, BeforeCommit
from notifier.delivery.events import ResourceChanged
from notifier.delivery.loader import LoadedListener
from notifier.delivery.observers import Observers, Outcome
from notifier.delivery.outages import PROBE_INTERVAL, is_outage
from notifier.delivery.outcomes import Rejected
from notifier.delivery.relay import describe, now_ms, settle
from notifier.delivery.standin import snapshot
from notifier.retry import RetryPolicy
from notifier.storage import OutboxEntry, Session, Storage, transaction

log = logging.getLogger(__name__)


@dataclass
class Delivery:
    """What one listener gets from one request, after commit.

    ``events`` are delivered in the request thread; ``owned`` are the keys of
    the outbox entries this delivery removes or reschedules afterwards (the
    writes among ``events``; reads have none).  When earlier events of the
    listener still wait in the outbox, the request's writes are left to the
    relay (which keeps commit order) and only its reads are delivered here.
    """

    listener: LoadedListener
    events: list[ResourceChanged] = field(default_factory=list)
    owned: list[tuple[str, str]] = field(default_factory=list)


class Dispatcher:
    """Matches events to listeners, records writes in the outbox and delivers them."""

    def __init__(
        self,
        storage: Storage,
        listeners: Sequence[LoadedListener],
        policy: RetryPolicy,
        lease: float = 30.0,
        observers: Observers | None = None,
    ) -> None:
        self.storage = storage
        #: The app's observers (plugins add theirs while the app is configured).
        self.observers = Observers() if observers is None else observers
        #: The app's list: listeners registered later (``config.add_listener``) join it.
        self.listeners = listeners
        self.policy = policy
        self.lease = lease
        self.backlogged: set[str] = set()

    def before_commit(self, event: BeforeCommit) -> None:
        transaction_ = event.transaction
        if not transaction_.changes or not self.listeners:
            return
        events = [
            ResourceChanged.of_change(c, event.request, transaction_.request_id)
            for c in transaction_.changes
        ]
        now = now_ms()
        entries: list[OutboxEntry] = []
        # Beside each event, what a retry rebuilds ``event.request`` from (standin.py).
        request_data = snapshot(event.request)
        records = {e.event_id: e.outbox_record(request_data) for e in events if e.action != "read"}
        for loaded in self.listeners:
            mine = [e for e in events if loaded.wants(e)]
            if not mine:
                continue
            if self.observers:
                transaction_.routed.append((loaded.name, mine))
            delivery = Delivery(loaded)
            writes = [e for e in mine if e.action != "read"]
            by_relay = bool(writes) and self._behind(transaction_.session, loaded.name)
            due = now if by_relay else now + int(self.lease * 1000)
            for e in mine:
                if e.action == "read":
                    delivery.events.append(e)
                    continue
                entries.append(
                    OutboxEntry(
                        e.event_id,
                        loaded.name,
                        records[e.event_id],
                        next_attempt_at=due,
                        created_at=now,
                    )
                )
                if not by_relay:
                    delivery.events.append(e)
                    delivery.owned.append((e.event_id, loaded.name))
            if delivery.events:
                transaction_.deliveries.append(delivery)
        if entries:
            transaction_.session.outbox_add(entries)

    def _behind(self, session: Session, name: str) -> bool:
        """Do earlier events of listener ``name`` still wait for the relay?

        Only asked after a delivery to it failed in this process, so the
        common path costs no query.
        """
        if name not in self.backlogged:
            return False
        if session.outbox_pending(name):
            return True
        self.backlogged.discard(name)
        return False

    def after_commit(self, event: AfterCommit) -> None:
        deliveries = event.transaction.deliveries
        event.transaction.deliveries = []
        if event.transaction.routed:
            for name, events in event.transaction.routed:
                self.observers.routed(name, events)
            event.transaction.routed = []
        if deliveries:
            self.deliver(deliveries)

    def deliver(self, deliveries: Sequence[Delivery]) -> None:
        """Call each listener in INI order, then settle the outbox entries they own."""
        done: list[tuple[str, str]] = []
        failed: list[tuple[tuple[str, str], BaseException]] = []
        observe = bool(self.observers)
        for delivery in deliveries:
            name = delivery.listener.name
            started = time.perf_counter() if observe else 0.0
            try:
                delivery.listener.deliver(delivery.events)
            except Exception as error:
                if observe:
                    self._observe_failure(delivery, time.perf_counter() - started)
                log.exception(
                    "listener %s failed on event(s) %s%s",
                    name,
                    ", ".join(e.event_id for e in delivery.events),
                    "; the outbox relay will retry" if delivery.owned else "",
                )
                if delivery.owned:
                    self.backlogged.add(name)
                if isinstance(error, Rejected) and len(delivery.owned) > 1:
                    # Which one was refused? The relay retries them one by one to find out.
                    error = RuntimeError(describe(error))
                failed.extend((key, error) for key in delivery.owned)
                continue
            if observe:
                self.observers.called(name, time.perf_counter() - started)
                self.observers.settled(name, "ok", len(delivery.events))
            done.extend(delivery.owned)
        if done or failed:
            self._settle(done, failed)

    def _observe_failure(self, delivery: Delivery, seconds: float) -> None:
        """The call, and the reads among its events: never retried, so lost ("dead").
        Its writes are counted once the outbox says whether they retry or died."""
        self.observers.called(delivery.listener.name, seconds)
        self.observers.settled(
            delivery.listener.name, "dead", len(delivery.events) - len(delivery.owned)
        )

    def _settle(
        self, done: list[tuple[str, str]], failed: list[tuple[tuple[str, str], BaseException]]
    ) -> None:
        """Delete what was delivered and reschedule what failed, in one transaction."""
        outcomes: list[tuple[str, Outcome]] = []
        try:
            with transaction(self.storage) as session:
                session.outbox_done(done)
                now = now_ms()
                for key, error in failed:
                    if is_outage(error):
                        # The target is down: no attempt used; the relay probes it.
                        due = now + int(PROBE_INTERVAL * 1000)
                        session.outbox_release([key], describe(error), due)
                        outcomes.append((key[1], "retry"))
                    else:
                        outcomes.append((key[1], settle(session, self.policy, key, 0, error, now)))
            for listener, outcome in outcomes:
                self.observers.settled(listener, outcome, 1)
        except Exception:
            # The entries stay leased; the relay takes them over when the lease ends.
            log.exception(
                "could not settle %d delivered and %d failed outbox entries",
                len(done),
                len(failed),
            )
