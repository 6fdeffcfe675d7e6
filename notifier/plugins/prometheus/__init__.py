"""Prometheus metrics at ``GET /v1/__metrics__`` (as Kinto's prometheus plugin).

``notifier.includes = notifier.plugins.prometheus`` adds the endpoint (no
authentication, as in Kinto: keep it off the public side of a proxy), a
``prometheus`` capability, the tween that counts requests, and an observer
of the delivery core.  docs/observability.md lists every metric.  Settings:

- ``notifier.prometheus.scrape_timeout``: the longest a scrape waits for the
  storage and for each Redis queue behind the gauges (seconds, default 2).

Several processes serving one app (``notifier serve --processes N``) share
their counters through prometheus_client's multiprocess mode: set
``PROMETHEUS_MULTIPROC_DIR`` to an empty folder in their environment before
they start, and any of them answers a scrape with the sum of all.
"""

from __future__ import annotations

import os

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, values
from prometheus_client.multiprocess import MultiProcessCollector
from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.response import Response
from pyramid.tweens import EXCVIEW

from notifier.listeners.redis import RedisListener
from notifier.plugins.prometheus.collector import Queue, StateCollector
from notifier.plugins.prometheus.instruments import DeliveryMetrics, HttpMetrics
from notifier.plugins.prometheus.tween import IHttpMetrics
from notifier.settings import SettingsError
from notifier.state import NotifierState, state_of

PREFIX = "notifier.prometheus."
DEFAULTS = {"scrape_timeout": "2"}
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
#: After the listeners' own registrations (order 0), so they are all known.
AFTER_LISTENERS = 1


def scrape_registry(instruments: CollectorRegistry) -> CollectorRegistry:
    """What a scrape reads: this process's instruments, or every process's files.

    Raises SettingsError when ``PROMETHEUS_MULTIPROC_DIR`` names no folder, or
    was set after prometheus_client was imported (its values would not be shared).
    """
    directory = os.environ.get(MULTIPROC_ENV)
    if not directory:
        return instruments
    if not os.path.isdir(directory):
        raise SettingsError(MULTIPROC_ENV, "must name an existing, empty folder", directory)
    if values.ValueClass is values.MutexValue:
        raise SettingsError(
            MULTIPROC_ENV,
            "was set after prometheus_client was imported: set it in the environment"
            " of the processes before they start",
            directory,
        )
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=directory)
    return registry


def queues_of(state: NotifierState) -> list[Queue]:
    """The Redis lists the app's queue listeners push to."""
    return [
        Queue(loaded.listener.listname, loaded.listener.client)
        for loaded in state.listeners
        if isinstance(loaded.listener, RedisListener)
    ]


class MetricsView:
    """``GET /v1/__metrics__``: the text exposition format."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def __call__(self, request: Request) -> Response:
        body = generate_latest(self.registry)
        return Response(body=body, headerlist=[("Content-Type", CONTENT_TYPE_LATEST)])


def includeme(config: Configurator) -> None:
    section = config.add_settings_defaults(PREFIX, DEFAULTS)
    timeout = section.float("scrape_timeout", minimum=0.001)
    state = state_of(config.registry)
    instruments = CollectorRegistry()
    scraped = scrape_registry(instruments)
    http = HttpMetrics(instruments)
    delivery = DeliveryMetrics(instruments)
    scraped.register(
        StateCollector(
            state.storage,
            lambda: [loaded.name for loaded in state.listeners],
            lambda: queues_of(state),
            state.heartbeat_threads,
            timeout,
        )
    )
    config.registry.registerUtility(http, IHttpMetrics)
    config.add_tween("notifier.plugins.prometheus.tween.metrics_tween_factory", over=EXCVIEW)
    config.add_delivery_observer(delivery)

    def preset() -> None:
        delivery.preset((loaded.name, loaded.wants_reads) for loaded in state.listeners)

    config.action(None, preset, order=AFTER_LISTENERS)
    config.add_route("metrics", "/__metrics__")
    config.add_view(MetricsView(scraped), route_name="metrics", request_method="GET")
    config.add_capability(
        "prometheus",
        "Prometheus metrics at /v1/__metrics__ (docs/observability.md).",
        url="https://kinto.readthedocs.io/en/latest/configuration/settings.html#prometheus",
    )
