"""Listeners that get the contract wrong in the way ``shape`` says."""

from __future__ import annotations

from typing import Any

from notifier.listeners import ListenerBase
from notifier.settings import Section

SETTINGS_KEYS = ("shape",)


class NoEventsDeliver(ListenerBase):
    def __call__(self, event: Any) -> None:
        pass

    def deliver(self) -> None:  # type: ignore[override]
        pass


class StringFilter(ListenerBase):
    event_filter = "records"  # type: ignore[assignment]

    def __call__(self, event: Any) -> None:
        pass


def load_from_config(config: Any, prefix: str) -> Any:
    shape = Section(config.get_settings(), prefix).str("shape")
    return {"deliver": NoEventsDeliver(), "filter": StringFilter(), "number": 42}[shape]
