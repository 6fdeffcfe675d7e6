"""Reading a Prometheus scrape in the tests: prometheus_client's own text parser."""

from __future__ import annotations

import urllib.request
from collections.abc import Mapping

from prometheus_client.parser import text_string_to_metric_families

#: Every metric family the app's /v1/__metrics__ has from its first scrape.
APP_FAMILIES = {
    "notifier_http_requests",
    "notifier_http_request_duration_seconds",
    "notifier_events",
    "notifier_deliveries",
    "notifier_delivery_duration_seconds",
    "notifier_outbox_backlog",
    "notifier_outbox_oldest_age_seconds",
    "notifier_dead_letters",
    "notifier_queue_depth",
    "notifier_queue_inflight",
    "notifier_queue_workers",
    "notifier_queue_dead_letters",
}


class Scrape:
    """One scrape: families by name, and samples by name and labels."""

    def __init__(self, text: str) -> None:
        self.families = {family.name: family for family in text_string_to_metric_families(text)}
        self.samples = {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in self.families.values()
            for sample in family.samples
        }
        self.names = {sample[0] for sample in self.samples}

    def value(self, name: str, **labels: str) -> float | None:
        """The sample ``name{labels}``, or None when the scrape has none."""
        return self.samples.get((name, tuple(sorted(labels.items()))))

    def total(self, name: str, **labels: str) -> float:
        """The sum of the samples of ``name`` whose labels include ``labels``."""
        wanted = set(labels.items())
        return sum(
            value
            for (sample, found), value in self.samples.items()
            if sample == name and wanted <= set(found)
        )


def scrape_text(text: str | bytes) -> Scrape:
    return Scrape(text.decode() if isinstance(text, bytes) else text)


def scrape_url(url: str, headers: Mapping[str, str] | None = None) -> Scrape:
    request = urllib.request.Request(url, headers=dict(headers or {}))
    with urllib.request.urlopen(request, timeout=10) as response:
        return scrape_text(response.read())
