"""The disabled endpoints live in the storage: every process on it agrees, on each backend."""

from __future__ import annotations

from notifier.listeners.webhook import state_storage
from notifier.listeners.webhook_settings import parse_url
from notifier.listeners.webhook_state import EndpointStates

GONE = parse_url("url", "https://example.com/hooks?token=secret")
OTHER = parse_url("url", "https://example.org/hooks")


def test_a_disabled_endpoint_is_seen_by_another_process_until_enabled(
    backend_settings: dict[str, str],
) -> None:
    one = EndpointStates(lambda: state_storage(backend_settings), "hook", refresh=0)
    two = EndpointStates(lambda: state_storage(backend_settings), "hook", refresh=0)
    elsewhere = EndpointStates(lambda: state_storage(backend_settings), "other", refresh=0)
    try:
        one.disable(GONE, "answered 410 Gone")

        assert two.is_disabled(GONE) == "answered 410 Gone"
        assert two.is_disabled(OTHER) is None
        assert elsewhere.is_disabled(GONE) is None
        assert two.enable([GONE, OTHER]) == [GONE]
        assert one.is_disabled(GONE) is None
        one.disable(GONE, "answered 410 Gone again")
        assert two.is_disabled(GONE) == "answered 410 Gone again"
    finally:
        for states in (one, two, elsewhere):
            states.close()


def test_a_process_trusts_its_last_read_for_the_refresh_time(
    backend_settings: dict[str, str],
) -> None:
    one = EndpointStates(lambda: state_storage(backend_settings), "hook", refresh=0)
    cached = EndpointStates(lambda: state_storage(backend_settings), "hook", refresh=3600)
    try:
        assert cached.is_disabled(GONE) is None
        one.disable(GONE, "gone")
        assert cached.is_disabled(GONE) is None  # not re-read yet
        assert one.is_disabled(GONE) == "gone"
    finally:
        one.close()
        cached.close()
