"""The gauges read at scrape time: the outbox per listener and the Redis queues.

They are read from where the truth is (the storage, Redis), when Prometheus
asks, with the same reads as the outbox heartbeat and ``notifier queue``
(``Session.outbox_stats_by_listener``; ``queue.protocol.depth``,
``inflight``, ``dead_count`` and ``live_workers``), so every process of a
deployment reports the same values and nothing is counted along the way.
Each source is read in the app's heartbeat threads and waited for at most
``scrape_timeout`` seconds: a slow database or a Redis that does not answer
leaves its gauges without samples (and a warning in the log) instead of
holding the scrape up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from time import monotonic
from typing import Any

import redis
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from notifier.delivery.relay import now_ms
from notifier.queue import protocol
from notifier.storage import OutboxStats, Storage, transaction

log = logging.getLogger(__name__)

OUTBOX_GAUGES = {
    "backlog": ("notifier_outbox_backlog", "Outbox entries waiting for delivery."),
    "age": (
        "notifier_outbox_oldest_age_seconds",
        "Age of the oldest entry waiting for delivery (0 when none waits).",
    ),
    "dead": ("notifier_dead_letters", "Outbox dead letters (notifier outbox dead)."),
}
QUEUE_GAUGES = {
    "depth": ("notifier_queue_depth", "Messages waiting in a Redis queue, not yet claimed."),
    "inflight": (
        "notifier_queue_inflight",
        "Messages claimed by workers and not yet acknowledged.",
    ),
    "dead": ("notifier_queue_dead_letters", "Messages in a Redis queue's dead-letter list."),
    "workers": ("notifier_queue_workers", "Workers whose heartbeat on the queue is live."),
}


@dataclass(frozen=True)
class Queue:
    """A Redis list a queue listener pushes to, and that listener's client."""

    listname: str
    client: redis.Redis


def read_outbox(storage: Storage) -> dict[str, OutboxStats]:
    with transaction(storage, write=False) as session:
        return session.outbox_stats_by_listener()


def read_queue(queue: Queue) -> dict[str, int]:
    """Depth, messages in flight and live workers of one queue."""
    client, listname = queue.client, queue.listname
    return {
        "depth": protocol.depth(client, listname),
        "inflight": sum(protocol.inflight(client, listname).values()),
        "dead": protocol.dead_count(client, listname),
        "workers": len(protocol.live_workers(client, listname)),
    }


class StateCollector(Collector):
    """Collects the outbox and queue gauges; ``listeners`` and ``queues`` are read
    at each scrape, so the app's lists, filled when its configuration commits, do."""

    def __init__(
        self,
        storage: Storage,
        listeners: Callable[[], Iterable[str]],
        queues: Callable[[], Iterable[Queue]],
        threads: Callable[[], ThreadPoolExecutor],
        timeout: float,
    ) -> None:
        self.storage = storage
        self.listeners = listeners
        self.queues = queues
        self.threads = threads
        self.timeout = timeout

    def describe(self) -> Iterable[Metric]:
        """The families without reading anything (registering does not scrape)."""
        for name, text in OUTBOX_GAUGES.values():
            yield GaugeMetricFamily(name, text, labels=["listener"])
        for name, text in QUEUE_GAUGES.values():
            yield GaugeMetricFamily(name, text, labels=["queue"])

    def collect(self) -> Iterator[Metric]:
        pool = self.threads()
        queues = {queue.listname: queue for queue in self.queues()}
        outbox = pool.submit(read_outbox, self.storage)
        depths = {name: pool.submit(read_queue, queue) for name, queue in queues.items()}
        deadline = monotonic() + self.timeout
        yield from self._outbox_families(_result(outbox, deadline, "the outbox"))
        families = {
            key: GaugeMetricFamily(name, text, labels=["queue"])
            for key, (name, text) in QUEUE_GAUGES.items()
        }
        for name, future in depths.items():
            found = _result(future, deadline, f"redis queue {name!r}")
            for key, value in (found or {}).items():
                families[key].add_metric([name], value)
        yield from families.values()

    def _outbox_families(self, stats: dict[str, OutboxStats] | None) -> Iterator[Metric]:
        families = {
            key: GaugeMetricFamily(name, text, labels=["listener"])
            for key, (name, text) in OUTBOX_GAUGES.items()
        }
        if stats is not None:
            now = now_ms()
            empty = OutboxStats(backlog=0, oldest_created_at=None, dead=0)
            for name in sorted({*self.listeners(), *stats}):
                found = stats.get(name, empty)
                oldest = found.oldest_created_at
                age = 0.0 if oldest is None else max(0, now - oldest) / 1000
                families["backlog"].add_metric([name], found.backlog)
                families["age"].add_metric([name], age)
                families["dead"].add_metric([name], found.dead)
        yield from families.values()


def _result(future: Future[Any], deadline: float, what: str) -> Any:
    """The future's result by ``deadline``, or None (logged) when it fails or is late."""
    try:
        return future.result(timeout=max(0.0, deadline - monotonic()))
    except FutureTimeout:
        log.warning("metrics: %s did not answer in time; its gauges are left out", what)
    except Exception as error:
        log.warning("metrics: reading %s failed (%s); its gauges are left out", what, error)
    return None
