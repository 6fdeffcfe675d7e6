"""A listener that is only a function, as the shortest Kinto-style module would return."""

from __future__ import annotations

from typing import Any


def load_from_config(config: Any, prefix: str) -> Any:
    received: list[Any] = []
    config.registry.function_events = received
    return received.append
