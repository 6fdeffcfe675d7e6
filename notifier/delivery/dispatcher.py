"""The synchronous dispatcher: events of a committed write go to the INI's listeners.

Before commit, the request's changes become ``ResourceChanged`` events and
their matching deliveries go into the outbox, inside the transaction.  After
commit, each listener gets its events in INI order, in the request thread; a
listener that raises is logged and left to the relay, and neither fails the
response nor stops the other listeners.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pyramid.config import Configurator
from pyramid.request import Request

from notifier.delivery.acks import PendingAcks
from notifier.delivery.events import ResourceChanged
from notifier.delivery.loader import LoadedListener, load_listeners
from notifier.delivery.relay import Relay, describe, now_ms, retry_at
from notifier.http.transaction import AfterCommit, BeforeCommit, Change, current
from notifier.retry import RetryPolicy
from notifier.settings import Section
from notifier.storage import OutboxEntry, Session, Storage, transaction

log = logging.getLogger(__name__)

ENVIRON_KEY = "notifier.deliveries"


def build_event(change: Change, request: Request | None) -> ResourceChanged:
    """The event of one change: Kinto's payload keys, plus ``event_id``."""
    payload: dict[str, Any] = {
        "action": change.action,
        "uri": change.uri,
        "resource_name": change.resource_name,
        "user_id": change.user_id,
        "timestamp": change.new["last_modified"],
        "event_id": uuid.uuid4().hex,
        **change.parents,
        f"{change.resource_name}_id": change.new["id"],
    }
    impacted: dict[str, Any] = {"new": change.new}
    if change.old is not None:
        impacted = {"old": change.old, "new": change.new}
    return ResourceChanged(payload, [impacted], request)


@dataclass
class Delivery:
    """The events one listener gets from one request.

    ``by_relay`` when earlier events of that listener still wait in the
    outbox: the relay delivers these after them, so the listener keeps
    commit order.
    """

    listener: LoadedListener
    events: list[ResourceChanged] = field(default_factory=list)
    by_relay: bool = False


class Dispatcher:
    """Matches events to listeners, records them in the outbox and delivers them."""

    def __init__(
        self,
        storage: Storage,
        listeners: Sequence[LoadedListener],
        policy: RetryPolicy,
        acks: PendingAcks | None = None,
        lease: float = 30.0,
    ) -> None:
        self.storage = storage
        self.listeners = list(listeners)
        self.policy = policy
        self.lease = lease
        self.acks = acks if acks is not None else PendingAcks(storage, delay=0)
        self.backlogged: set[str] = set()

    def match(self, events: Sequence[ResourceChanged]) -> list[Delivery]:
        deliveries = []
        for loaded in self.listeners:
            mine = [event for event in events if loaded.wants(event)]
            if mine:
                deliveries.append(Delivery(loaded, mine))
        return deliveries

    def before_commit(self, event: BeforeCommit) -> None:
        changes = event.transaction.changes
        if not changes or not self.listeners:
            return
        if any(change.action != "read" for change in changes):
            # A write session: carry the deletes of earlier deliveries.  First, so
            # that _behind counts only entries still waiting for delivery.
            self.acks.delete_in(event.transaction.session)
        events = [build_event(change, event.request) for change in changes]
        deliveries = self.match(events)
        for delivery in deliveries:
            delivery.by_relay = self._behind(event.transaction.session, delivery.listener.name)
        now = now_ms()
        lease = now + int(self.lease * 1000)
        # Reads are not writes: they are delivered once, after the response, never retried.
        messages = {e.event_id: e.to_json() for e in events if e.action != "read"}
        entries = [
            OutboxEntry(
                e.event_id,
                d.listener.name,
                messages[e.event_id],
                next_attempt_at=now if d.by_relay else lease,
                created_at=now,
            )
            for d in deliveries
            for e in d.events
            if e.action != "read"
        ]
        event.transaction.session.outbox_add(entries)
        event.request.environ[ENVIRON_KEY] = deliveries

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
        deliveries: list[Delivery] = event.request.environ.pop(ENVIRON_KEY, [])
        direct = [delivery for delivery in deliveries if not delivery.by_relay]
        if direct:
            self.deliver(direct)

    def deliver(self, deliveries: Sequence[Delivery]) -> None:
        """Call each listener in INI order; record what was delivered and what failed."""
        done: list[tuple[str, str]] = []
        failed: list[tuple[Delivery, str]] = []
        for delivery in deliveries:
            name = delivery.listener.name
            try:
                delivery.listener.deliver(delivery.events)
            except Exception as error:
                log.exception(
                    "listener %s failed on event(s) %s; the outbox relay will retry",
                    name,
                    ", ".join(e.event_id for e in delivery.events),
                )
                failed.append((delivery, describe(error)))
                self.backlogged.add(name)
                continue
            done.extend((e.event_id, name) for e in delivery.events)
        self._record(done, failed)

    def _record(self, done: list[tuple[str, str]], failed: list[tuple[Delivery, str]]) -> None:
        self.acks.add(done)
        if not failed:
            return
        try:
            with transaction(self.storage) as session:
                due = retry_at(self.policy, 1, now_ms())
                for delivery, error in failed:
                    for e in delivery.events:
                        session.outbox_retry((e.event_id, delivery.listener.name), error, due)
        except Exception:
            # The entries stay leased; the relay takes them over when the lease ends.
            log.exception("could not record failed deliveries in the outbox")


def includeme(config: Configurator) -> None:
    """Load and check the INI's listeners; subscribe the dispatcher; start the relay."""
    settings = config.get_settings()
    listeners = list(load_listeners(config, settings))
    storage: Storage = config.registry.notifier_storage
    outbox = Section(settings, "notifier.outbox.")
    policy = RetryPolicy.from_section(outbox)
    lease = outbox.float("lease", minimum=0.001)
    delay = outbox.float("ack_delay", minimum=0)
    dispatcher = Dispatcher(storage, listeners, policy, PendingAcks(storage, delay), lease)
    config.registry.notifier_dispatcher = dispatcher
    config.registry.notifier_reads_wanted = any(each.wants_reads for each in listeners)
    config.registry.notifier_relay = Relay(storage, listeners, policy, lease=lease)
    config.add_subscriber(dispatcher.before_commit, BeforeCommit)
    config.add_subscriber(dispatcher.after_commit, AfterCommit)
    relay = Section(settings, "notifier.relay.")
    config.registry.notifier_relay_interval = relay.float("interval", minimum=0.01)
    config.registry.notifier_relay_in_process = relay.bool("in_process")
    config.add_heartbeat("outbox", outbox_heartbeat)
    for loaded in listeners:
        check = getattr(loaded.listener, "heartbeat", None)
        if callable(check):
            config.add_heartbeat(loaded.name, lambda request, check=check: check())


def outbox_heartbeat(request: Request) -> dict[str, Any]:
    stats = current(request).session.outbox_stats()
    oldest = stats.oldest_created_at
    age = round((now_ms() - oldest) / 1000, 3) if oldest is not None else 0
    return {"ok": True, "backlog": stats.backlog, "oldest_age_seconds": age, "dead": stats.dead}
