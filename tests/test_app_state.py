"""The app's typed state on the registry, and ``notifier.shutdown`` stopping what it started."""

from __future__ import annotations

import notifier
from notifier.state import NotifierState
from tests.eventing import listener, with_listeners


def test_the_state_is_one_typed_object(tmp_path):
    app = with_listeners(tmp_path, "rec")
    state = app.app.registry.notifier
    assert isinstance(state, NotifierState)
    assert [loaded.name for loaded in state.listeners] == ["rec"]
    assert set(state.heartbeats) == {"storage", "outbox"}  # a recorder has no heartbeat
    assert not [name for name in vars(app.app.registry) if name.startswith("notifier_")]
    notifier.shutdown(app.app.registry)


def test_shutdown_stops_the_relay_closes_listeners_and_storage(tmp_path, monkeypatch):
    app = with_listeners(tmp_path, "rec", **{"notifier.relay.in_process": "true"})
    state = app.app.registry.notifier
    assert state.relay_thread is not None and state.relay_thread.is_alive()
    closed = []
    monkeypatch.setattr(type(listener(app, "rec")), "close", lambda self: closed.append(self))
    notifier.shutdown(app.app.registry)
    assert not state.relay_thread.is_alive()
    assert closed == [listener(app, "rec")]
    notifier.shutdown(app.app.registry)  # a second call does nothing
    assert len(closed) == 1
