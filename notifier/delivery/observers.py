"""Observers of the delivery core: how metrics (or anything else) learn what happened.

The dispatcher and the relay tell every registered observer which events a
committed request routed to each listener, how long each call to a listener
took, and how each delivery ended, one count per event: ``ok`` (delivered),
``retry`` (it stays in the outbox for the relay) or ``dead`` (a dead letter,
or a read event that failed and is never retried).  A plugin registers one
with ``config.add_delivery_observer``; the core imports no metrics library.

An observer is called in the request thread or the relay's: it must be quick
and must not raise (what it raises is logged and ignored).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Literal, Protocol

from notifier.delivery.events import ResourceChanged

log = logging.getLogger(__name__)

Outcome = Literal["ok", "retry", "dead"]
OUTCOMES: tuple[Outcome, ...] = ("ok", "retry", "dead")


class DeliveryObserver(Protocol):
    """What a delivery observer implements (all three methods)."""

    def routed(self, listener: str, events: Sequence[ResourceChanged]) -> None:
        """A committed request's ``events`` matched ``listener``'s filter."""

    def called(self, listener: str, seconds: float) -> None:
        """One call to ``listener`` (one or more events) returned or raised."""

    def settled(self, listener: str, outcome: Outcome, count: int) -> None:
        """``count`` events to ``listener`` ended with ``outcome``."""


class Observers:
    """The app's observers, told in turn; an empty one costs the core one truth test."""

    def __init__(self) -> None:
        self.observers: list[DeliveryObserver] = []

    def __bool__(self) -> bool:
        return bool(self.observers)

    def add(self, observer: DeliveryObserver) -> None:
        self.observers.append(observer)

    def routed(self, listener: str, events: Sequence[ResourceChanged]) -> None:
        for observer in self.observers:
            try:
                observer.routed(listener, events)
            except Exception:
                log.exception("delivery observer %r failed", observer)

    def called(self, listener: str, seconds: float) -> None:
        for observer in self.observers:
            try:
                observer.called(listener, seconds)
            except Exception:
                log.exception("delivery observer %r failed", observer)

    def settled(self, listener: str, outcome: Outcome, count: int) -> None:
        if count <= 0:
            return
        for observer in self.observers:
            try:
                observer.settled(listener, outcome, count)
            except Exception:
                log.exception("delivery observer %r failed", observer)
