"""bench/faults.py's fault runs in a short form: no write that answered 201 goes undelivered.

Each run has its own redis-server and notifier server processes (issue 14).
The scenario lengths below are how long Redis stays away or the load lasts,
not waits for a condition; every wait inside polls with a deadline.  The
figures (resume time, duplicates) are reported by the bench, not asserted.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import faults  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> tuple[str, str]:
    """The backend's name, and the PostgreSQL database its schema goes in."""
    if request.param == "sqlite":
        return "sqlite", ""
    return "postgresql", request.getfixturevalue("postgresql_url")


def test_redis_killed_with_a_backlog_loses_nothing_on_its_aof(backend: tuple[str, str]) -> None:
    result = faults.redis_kill(*backend, backlog=300, down=1.0, after=1.0)
    assert result["queued_when_killed"] >= 1
    assert result["writes_committed"] > 0
    assert (result["missing"], result["dead_letters"]) == (0, 0)


def test_redis_down_then_back_delivers_everything_in_order(backend: tuple[str, str]) -> None:
    result = faults.redis_down(*backend, down=3.0, rate=5.0)
    assert result["outbox_pending_at_return"] > 0
    assert (result["missing"], result["dead_letters"]) == (0, 0)
    assert result["order_kept"]


def test_server_killed_under_load_delivers_every_201(backend: tuple[str, str]) -> None:
    result = faults.server_kill(*backend, before=2.0, after=1.0, threads=4, kills=2)
    assert result["writes_committed"] > 0
    assert (result["missing"], result["dead_letters"]) == (0, 0)
