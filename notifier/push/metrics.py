"""The push service's metrics, at ``GET /metrics`` on its own port.

Connections by transport (open now, and accepted since the start), how
subscriptions ended, events read from the stream, and fan-out: events
queued for subscribers.  One registry per application, so two services in
one process (the tests) count apart.
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    generate_latest,
)

TRANSPORTS = ("sse", "websocket")
#: Why a subscription ended (``Subscriber.end``), and ``disconnected`` when the
#: client went away without a word.
END_REASONS = (
    "closed",
    "disconnected",
    "forbidden",
    "outside_window",
    "shutdown",
    "slow_consumer",
    "stream_reset",
)


class PushMetrics:
    """The instruments of one push service."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.open = Gauge(
            "notifier_push_connections",
            "Subscriptions open now, by transport.",
            ["transport"],
            registry=self.registry,
        )
        self.accepted = Counter(
            "notifier_push_connections_accepted",
            "Subscriptions accepted since the start, by transport.",
            ["transport"],
            registry=self.registry,
        )
        self.ended = Counter(
            "notifier_push_connections_ended",
            "Subscriptions ended, by reason (slow_consumer: dropped for reading too slowly).",
            ["reason"],
            registry=self.registry,
        )
        self.stream_events = Counter(
            "notifier_push_stream_events",
            "Events read from the Redis stream.",
            registry=self.registry,
        )
        self.fanout = Counter(
            "notifier_push_fanout",
            "Events queued for a subscriber (one event to three subscribers counts 3).",
            registry=self.registry,
        )
        self.redis_up = Gauge(
            "notifier_push_redis_up",
            "1 while the stream's Redis answers, else 0.",
            registry=self.registry,
        )
        for transport in TRANSPORTS:
            self.open.labels(transport)
            self.accepted.labels(transport)
        for reason in END_REASONS:
            self.ended.labels(reason)

    def connected(self, transport: str) -> None:
        self.accepted.labels(transport).inc()
        self.open.labels(transport).inc()

    def disconnected(self, transport: str, reason: str) -> None:
        self.open.labels(transport).dec()
        self.ended.labels(reason if reason in END_REASONS else "disconnected").inc()

    def exposition(self) -> tuple[bytes, str]:
        """The body and content type of a scrape."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
