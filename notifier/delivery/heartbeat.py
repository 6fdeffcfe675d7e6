"""The outbox's heartbeat: how far behind delivery is, and whether that is healthy."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from notifier.delivery.changes import current
from notifier.delivery.relay import now_ms


@dataclass(frozen=True)
class OutboxHealth:
    """The ``outbox`` check of ``/v1/__heartbeat__``."""

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> OutboxHealth:
        return cls()

    def __call__(self, request: Any) -> dict[str, Any]:
        stats = current(request).session.outbox_stats()
        oldest = stats.oldest_created_at
        age = round((now_ms() - oldest) / 1000, 3) if oldest is not None else 0
        return {"ok": True, "backlog": stats.backlog, "oldest_age_seconds": age, "dead": stats.dead}
