"""Capped exponential backoff with jitter, for handler retries and Redis outages."""

from __future__ import annotations

import random
from collections.abc import Callable


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
