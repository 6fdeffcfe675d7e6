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
        by_listener = current(request).session.outbox_stats_by_listener()  # one query
        now = now_ms()
        ages = {
            name: round((now - stats.oldest_created_at) / 1000, 3)
            for name, stats in sorted(by_listener.items())
            if stats.oldest_created_at is not None
        }
        backlog = sum(stats.backlog for stats in by_listener.values())
        dead = sum(stats.dead for stats in by_listener.values())
        reasons = [
            f"listener {name}: its oldest pending event is {age:.1f} s old"
            f" ({PREFIX}max_backlog_age = {self.max_backlog_age:g} s)"
            for name, age in ages.items()
            if age > self.max_backlog_age
        ]
        if dead and self.dead_letters_fail:
            reasons.append(
                f"{dead} dead letter(s): see notifier outbox dead"
                f" ({PREFIX}dead_letters_fail = true)"
            )
        result: dict[str, Any] = {
            "ok": not reasons,
            "backlog": backlog,
            "oldest_age_seconds": max(ages.values(), default=0),
            "dead": dead,
            "oldest_age_seconds_by_listener": ages,
        }
        if reasons:
            result["reasons"] = reasons
        return result
