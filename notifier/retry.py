"""When to try a failed delivery again: one policy for the outbox relay and the worker.

Capped exponential backoff with jitter.  The relay builds its policy from
``notifier.outbox.*``, the worker runtime from its own arguments; both ask the
same type the same question.

Never imports: ``pyramid``, ``redis``, ``notifier.storage``, ``notifier.delivery``,
``notifier.worker``, ``notifier.http``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from notifier.settings import Section


def backoff_delay(
    attempt: int, base: float, cap: float, rand: Callable[[], float] = random.random
) -> float:
    """Seconds to wait before retry number ``attempt`` (1, 2, ...).

    "Equal jitter": half of ``min(cap, base * 2**(attempt-1))`` is fixed, the
    other half random, so workers that failed together do not retry together
    and the wait still grows.
    """
    delay = min(cap, base * 2 ** max(0, min(attempt - 1, 62)))
    return delay / 2 + rand() * delay / 2


@dataclass(frozen=True)
class RetryPolicy:
    """How many attempts a delivery gets, and how long to wait between them.

    Raises ValueError for a limit no delivery could work with (no attempt at
    all, a negative delay); settings readers check their keys first, so a
    user sees a SettingsError naming the key instead.
    """

    max_attempts: int = 10
    backoff_base: float = 1.0
    backoff_max: float = 300.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"RetryPolicy.max_attempts must be >= 1, got {self.max_attempts}")
        for name in ("backoff_base", "backoff_max"):
            if getattr(self, name) < 0:
                raise ValueError(f"RetryPolicy.{name} must be >= 0, got {getattr(self, name)}")

    @classmethod
    def from_section(cls, section: Section) -> RetryPolicy:
        """Read ``max_attempts``, ``backoff_base`` and ``backoff_max`` under a prefix.

        Raises SettingsError naming the full key of a bad value.
        """
        return cls(
            max_attempts=section.int("max_attempts", cls.max_attempts, minimum=1),
            backoff_base=section.float("backoff_base", cls.backoff_base),
            backoff_max=section.float("backoff_max", cls.backoff_max),
        )

    def delay(self, attempt: int, rand: Callable[[], float] = random.random) -> float:
        """Seconds to wait before retry number ``attempt`` (1, 2, ...), jittered."""
        return backoff_delay(max(attempt, 1), self.backoff_base, self.backoff_max, rand)

    def next_delay(self, failed: int) -> float | None:
        """Seconds until the next attempt after ``failed`` failed ones; None when none is left."""
        if failed >= self.max_attempts:
            return None
        return self.delay(failed)
