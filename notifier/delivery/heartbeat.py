"""The outbox's heartbeat: how far behind delivery is, and whether that is healthy.

Unhealthy (``ok: false``, with ``reasons``) when a listener's oldest pending
entry is older than ``notifier.heartbeat.max_backlog_age`` seconds, or when
dead letters exist and ``notifier.heartbeat.dead_letters_fail`` is true.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from notifier.delivery.changes import current
from notifier.delivery.relay import now_ms
from notifier.settings import Section

PREFIX = "notifier.heartbeat."


@dataclass(frozen=True)
class OutboxHealth:
    """The ``outbox`` check of ``/v1/__heartbeat__``."""

    max_backlog_age: float = 300.0
    dead_letters_fail: bool = True

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> OutboxHealth:
        section = Section(settings, PREFIX)
        return cls(
            max_backlog_age=section.float("max_backlog_age", minimum=0.001),
            dead_letters_fail=section.bool("dead_letters_fail"),
        )

    def __call__(self, request: Any) -> dict[str, Any]:
        session = current(request).session
        stats = session.outbox_stats()
        now = now_ms()
        ages = {
            name: round((now - created) / 1000, 3)
            for name, created in sorted(session.outbox_oldest().items())
        }
        reasons = [
            f"listener {name}: its oldest pending event is {age:.1f} s old"
            f" ({PREFIX}max_backlog_age = {self.max_backlog_age:g} s)"
            for name, age in ages.items()
            if age > self.max_backlog_age
        ]
        if stats.dead and self.dead_letters_fail:
            reasons.append(
                f"{stats.dead} dead letter(s): see notifier outbox dead"
                f" ({PREFIX}dead_letters_fail = true)"
            )
        result: dict[str, Any] = {
            "ok": not reasons,
            "backlog": stats.backlog,
            "oldest_age_seconds": max(ages.values(), default=0),
            "dead": stats.dead,
            "oldest_age_seconds_by_listener": ages,
        }
        if reasons:
            result["reasons"] = reasons
        return result
