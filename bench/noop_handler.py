"""A handler that does nothing: what the drain benchmark's worker processes run."""

from __future__ import annotations

from notifier.delivery.events import ResourceChanged


def handle(event: ResourceChanged) -> None:
    """Accept the event; the runtime acknowledges it."""
