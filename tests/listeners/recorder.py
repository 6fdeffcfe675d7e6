"""Records what it receives; fails its first ``fail_first`` calls when told to."""

from __future__ import annotations

from typing import Any

from notifier.delivery import filters
from notifier.delivery.events import ResourceChanged
from notifier.listeners import ListenerBase, listener_name
from notifier.settings import Section


class Recorder(ListenerBase):
    """Keeps the events; ``journal`` (shared by all recorders of an app) keeps the call order."""

    def __init__(
        self, name: str, journal: list[str], fail_first: int = 0, only_collection: str = ""
    ) -> None:
        self.name = name
        self.journal = journal
        self.events: list[ResourceChanged] = []
        self.calls = 0
        self.fail_first = fail_first
        if only_collection:
            self.event_filter = filters.collections(only_collection)

    def __call__(self, event: ResourceChanged) -> None:
        self.journal.append(f"{self.name} {event.event_id}")
        self.calls += 1
        if self.calls <= self.fail_first:
            raise RuntimeError(f"refusing call {self.calls} on purpose")
        self.events.append(event)


def load_from_config(config: Any, prefix: str) -> Recorder:
    section = Section(config.get_settings(), prefix)
    if not hasattr(config.registry, "recorder_journal"):
        config.registry.recorder_journal = []
    return Recorder(
        listener_name(prefix),
        config.registry.recorder_journal,
        section.int("fail_first", 0, minimum=0),
        section.str("only_collection", ""),
    )
