"""Server information, heartbeats, version and the OpenAPI document."""

from __future__ import annotations

import re

import pytest
from pyramid.interfaces import IRoutesMapper
from webtest import TestApp

import notifier
from tests.conftest import ALICE, ALICE_ID


def test_root_without_credentials(app: TestApp) -> None:
    info = app.get("/v1/", status=200).json
    assert info["project_name"] == "notifier"
    assert info["project_version"] == notifier.__version__
    assert info["http_api_version"] == "1.22"
    assert info["url"] == "http://localhost/v1/"
    assert info["settings"] == {"batch_max_requests": 25, "readonly": False}
    assert isinstance(info["capabilities"], dict)
    assert "user" not in info


def test_root_names_the_user_and_their_bucket(app: TestApp) -> None:
    user = app.get("/v1/", headers=ALICE).json["user"]
    assert user["id"] == ALICE_ID
    assert user["bucket"] == app.get("/v1/buckets/default", headers=ALICE).json["data"]["id"]


def test_heartbeat(app: TestApp) -> None:
    assert app.get("/v1/__heartbeat__", status=200).json["storage"] is True


def test_heartbeat_is_503_when_storage_is_down(
    app: TestApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    from notifier.storage.sqlite import SQLiteStorage

    monkeypatch.setattr(SQLiteStorage, "healthy", lambda self: False)
    assert app.get("/v1/__heartbeat__", status=503).json["storage"] is False


def test_lbheartbeat(app: TestApp) -> None:
    assert app.get("/v1/__lbheartbeat__", status=200).json == {}


def test_version(app: TestApp) -> None:
    version = app.get("/v1/__version__", status=200).json
    assert version["name"] == "notifier"
    assert version["version"] == notifier.__version__
    assert set(version) == {"name", "version", "source", "commit"}


def test_api_is_an_openapi_document_of_every_path(app: TestApp) -> None:
    document = app.get("/v1/__api__", status=200).json
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] and document["info"]["version"]
    assert document["servers"] == [{"url": "http://localhost/v1"}]
    served = {
        "/" + route.pattern.removeprefix("v1/")
        for route in app.app.registry.getUtility(IRoutesMapper).get_routes()
        if not route.name.startswith("redirect_to_")  # the 307s to /v1 (notifier.http.redirects)
    }
    assert set(document["paths"]) == served


def test_api_operations_are_well_formed(app: TestApp) -> None:
    document = app.get("/v1/__api__").json
    for path, item in document["paths"].items():
        declared = {p["name"] for p in item.get("parameters", [])}
        assert declared == set(re.findall(r"{(\w+)}", path)), path
        operations = {k: v for k, v in item.items() if k != "parameters"}
        assert operations, path
        for method, operation in operations.items():
            assert method in ("get", "post", "put", "patch", "delete"), path
            assert operation["responses"], (path, method)
            for response in operation["responses"].values():
                if "$ref" in response:  # a shared response: components/responses/<name>
                    response = document["components"]["responses"][
                        response["$ref"].rsplit("/", 1)[-1]
                    ]
                assert response["description"]
                for media in response.get("content", {}).values():
                    reference = media["schema"].get("$ref")
                    if reference is not None:
                        name = reference.rsplit("/", 1)[-1]
                        assert name in document["components"]["schemas"]
