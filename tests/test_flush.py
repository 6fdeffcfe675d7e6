"""notifier.plugins.flush: POST /v1/__flush__ empties a test server."""

from __future__ import annotations

from pathlib import Path

import webtest

from notifier.listeners.webhook import state_storage
from notifier.listeners.webhook_settings import parse_url
from notifier.listeners.webhook_state import EndpointStates
from tests.apps import running
from tests.conftest import ALICE, SECRET
from tests.eventing import make_app

GONE = parse_url("url", "https://example.com/hooks?token=secret")


def test_flush_deletes_every_object_and_permission(tmp_path: Path) -> None:
    app = make_app(tmp_path, **{"notifier.includes": "notifier.plugins.flush"})
    app.put_json("/v1/buckets/b", {"permissions": {"read": ["system.Everyone"]}}, headers=ALICE)
    app.put_json("/v1/buckets/b/collections/c", {}, headers=ALICE)
    app.put_json("/v1/buckets/b/collections/c/records/r", {"data": {}}, headers=ALICE)
    response = app.post("/v1/__flush__", status=202)
    assert response.json == {}
    assert app.get("/v1/buckets", headers=ALICE).json["data"] == []
    app.get("/v1/buckets/b", headers=ALICE, status=403)
    assert "flush_endpoint" in app.get("/v1/").json["capabilities"]


def test_without_the_plugin_flush_is_a_404(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    response = app.post("/v1/__flush__", status=404)
    assert response.json["message"] == "/v1/__flush__ is not a URL of this server"


def test_flush_keeps_notifiers_own_state(backend_settings: dict[str, str]) -> None:
    """The webhook endpoints a 410 disabled stay disabled: they are no client's data."""
    settings = {
        **backend_settings,
        "notifier.userid_hmac_secret": SECRET,
        "notifier.includes": "notifier.plugins.flush",
    }
    states = EndpointStates(lambda: state_storage(backend_settings), "hook", refresh=0)
    try:
        states.disable(GONE, "answered 410 Gone")
        with running(settings) as wsgi_app:
            app = webtest.TestApp(wsgi_app)
            app.put_json("/v1/buckets/b", {"permissions": {"read": ["system.Everyone"]}},
                         headers=ALICE)  # fmt: skip
            app.put_json("/v1/buckets/b/collections/c", {}, headers=ALICE)
            app.put_json("/v1/buckets/b/collections/c/records/r", {"data": {}}, headers=ALICE)
            app.post("/v1/__flush__", status=202)
            assert app.get("/v1/buckets", headers=ALICE).json["data"] == []
        assert states.is_disabled(GONE) == "answered 410 Gone"
    finally:
        states.close()
