"""The counters and histograms the app updates as things happen: requests and deliveries.

Few labels, each with bounded values (prometheus_client's conventions):
the route's pattern, never the URL; a known method or ``OTHER``; listener
names from the INI.  Each label set's child is looked up once and kept, so
an update costs one dict lookup and the child's own lock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram

from notifier.delivery.events import ACTIONS, RESOURCES, ResourceChanged
from notifier.delivery.observers import OUTCOMES, Outcome

#: Methods counted under their own name; any other is ``OTHER`` (a client picks the
#: method, and a label must not take unbounded values).
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
#: The route label of a request no route matched (a 404 before any view).
UNMATCHED = "unmatched"


class HttpMetrics:
    """``notifier_http_requests_total`` and ``notifier_http_request_duration_seconds``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "notifier_http_requests",
            "HTTP requests answered, by method, route pattern and status.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.duration = Histogram(
            "notifier_http_request_duration_seconds",
            "Time to answer an HTTP request, by route pattern.",
            ["route"],
            registry=registry,
        )
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        # The method is folded first: a key per invented method would grow without end.
        method = method if method in METHODS else "OTHER"
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            children = (
                self.requests.labels(method, route, str(status)),
                self.duration.labels(route),
            )
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)


class DeliveryMetrics:
    """The delivery core's observer: events routed, delivery outcomes and durations."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.events = Counter(
            "notifier_events",
            "Events of committed requests routed to a listener (after its filters).",
            ["listener", "action", "resource_name"],
            registry=registry,
        )
        self.deliveries = Counter(
            "notifier_deliveries",
            "Events a listener was given, by outcome: ok, retry (left to the relay),"
            " dead (dead letter, or a failed read event).",
            ["listener", "outcome"],
            registry=registry,
        )
        self.duration = Histogram(
            "notifier_delivery_duration_seconds",
            "Time one call to a listener took (a request's events, or a relay batch).",
            ["listener"],
            registry=registry,
        )
        self._events: dict[tuple[str, str, str], Any] = {}
        self._outcomes: dict[tuple[str, str], Any] = {}
        self._durations: dict[str, Any] = {}

    def preset(self, listeners: Iterable[tuple[str, bool]]) -> None:
        """Zeros for every label set known at start: ``(name, wants_reads)`` per listener."""
        for name, wants_reads in listeners:
            for action in (*ACTIONS, "read") if wants_reads else ACTIONS:
                for resource in RESOURCES:
                    self._event(name, action, resource)
            for outcome in OUTCOMES:
                self._outcome(name, outcome)
            self._duration(name)

    def routed(self, listener: str, events: Sequence[ResourceChanged]) -> None:
        for event in events:
            self._event(listener, event.action, event.resource_name).inc()

    def called(self, listener: str, seconds: float) -> None:
        self._duration(listener).observe(seconds)

    def settled(self, listener: str, outcome: Outcome, count: int) -> None:
        self._outcome(listener, outcome).inc(count)

    def _event(self, listener: str, action: str, resource: str) -> Any:
        key = (listener, action, resource)
        child = self._events.get(key)
        if child is None:
            child = self._events[key] = self.events.labels(*key)
        return child

    def _outcome(self, listener: str, outcome: str) -> Any:
        key = (listener, outcome)
        child = self._outcomes.get(key)
        if child is None:
            child = self._outcomes[key] = self.deliveries.labels(*key)
        return child

    def _duration(self, listener: str) -> Any:
        child = self._durations.get(listener)
        if child is None:
            child = self._durations[listener] = self.duration.labels(listener)
        return child
