"""A listener that reads its settings by iterating over them, and declares no keys."""

from __future__ import annotations

from typing import Any

from notifier.listeners import ListenerBase


class ItemsReader(ListenerBase):
    def __init__(self, options: dict[str, str]) -> None:
        self.options = options
        self.received: list[Any] = []

    def __call__(self, event: Any) -> None:
        self.received.append((self.options.get("tag"), event.action))


def load_from_config(config: Any, prefix: str) -> ItemsReader:
    options = {
        key[len(prefix) :]: value
        for key, value in config.get_settings().items()
        if key.startswith(prefix)
    }
    return ItemsReader(options)
