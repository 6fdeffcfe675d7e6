"""notifier.plugins.flush: POST /v1/__flush__ empties a test server."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import ALICE
from tests.eventing import make_app


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
