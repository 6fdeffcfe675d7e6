"""Apps that close what they open: a test's app gives back its storage connections."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import notifier


@contextmanager
def running(settings: dict[str, str]) -> Iterator[Any]:
    """``notifier.main`` on ``settings``, shut down afterwards (else each PostgreSQL app
    keeps its pool, and a long run reaches select()'s 1024 file descriptors)."""
    app = notifier.main({}, **settings)
    try:
        yield app
    finally:
        notifier.shutdown(app.registry)
