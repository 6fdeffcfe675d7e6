"""Refuses (Rejected) events about the record ids in ``reject``; records the others."""

from __future__ import annotations

from typing import Any

from notifier.listeners import ListenerBase, Rejected
from notifier.settings import Section

SETTINGS_KEYS = ("reject",)


class Rejecting(ListenerBase):
    def __init__(self, reject: list[str]) -> None:
        self.reject = set(reject)
        self.events: list[Any] = []

    def __call__(self, event: Any) -> None:
        if event.payload.get("record_id") in self.reject:
            raise Rejected(f"record {event.payload['record_id']} is refused")
        self.events.append(event)


def load_from_config(config: Any, prefix: str) -> Rejecting:
    return Rejecting(Section(config.get_settings(), prefix).list("reject", []))
