"""A worker's own metrics, served on ``notifier worker --metrics-port``.

The runtime tells a ``JobObserver`` (``notifier.worker.status``) how each
message ended and how long its handler took; ``WorkerMetrics`` is that
observer made of prometheus_client instruments in a registry of its own,
and ``serve_metrics`` answers scrapes of it from a thread of this process.
Prometheus scrapes each worker: the queue's own figures (depth, in flight,
live workers) come from the app's ``/v1/__metrics__``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from notifier.worker.status import JOB_OUTCOMES, JobOutcome

log = logging.getLogger(__name__)


class WorkerMetrics:
    """``notifier_worker_jobs_total``, ``notifier_worker_job_duration_seconds``,
    ``notifier_worker_up``, for the worker of one queue."""

    def __init__(self, queue: str, registry: CollectorRegistry | None = None) -> None:
        self.registry = CollectorRegistry() if registry is None else registry
        jobs = Counter(
            "notifier_worker_jobs",
            "Messages handled, by outcome: ok (acknowledged), retry (failed, due again"
            " after a backoff), dead (moved to <listname>:dead).",
            ["queue", "outcome"],
            registry=self.registry,
        )
        self.jobs = {outcome: jobs.labels(queue, outcome) for outcome in JOB_OUTCOMES}
        self.duration = Histogram(
            "notifier_worker_job_duration_seconds",
            "Time the handler took on one message.",
            ["queue"],
            registry=self.registry,
        ).labels(queue)
        self.up = Gauge(
            "notifier_worker_up",
            "1 while this worker takes messages (registered, not stopping), else 0.",
            ["queue"],
            registry=self.registry,
        ).labels(queue)

    def handled(self, seconds: float) -> None:
        self.duration.observe(seconds)

    def settled(self, outcome: JobOutcome, count: int) -> None:
        self.jobs[outcome].inc(count)

    def running(self, up: bool) -> None:
        self.up.set(1 if up else 0)


def serve_metrics(
    registry: CollectorRegistry, host: str, port: int
) -> tuple[int, Callable[[], None]]:
    """Answer scrapes on ``host:port`` (0: a free port) from a daemon thread.

    Returns the port it listens on and a function that stops it.  Raises
    OSError when the address is taken.
    """
    server, thread = start_http_server(port, addr=host, registry=registry)

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(5)

    return int(server.server_address[1]), stop
