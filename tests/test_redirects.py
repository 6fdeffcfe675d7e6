"""Paths without the version prefix redirect (307) to their /v1 twin, as in Kinto."""

from __future__ import annotations

from webtest import TestApp

from tests.conftest import ALICE


def test_an_unversioned_path_redirects_with_its_query(app: TestApp) -> None:
    response = app.get("/buckets?_limit=2", status=307)
    assert response.headers["Location"] == "http://localhost/v1/buckets?_limit=2"


def test_the_root_and_v1_redirect_to_v1_slash(app: TestApp) -> None:
    assert app.get("/", status=307).headers["Location"] == "http://localhost/v1/"
    assert app.get("/v1", status=307).headers["Location"] == "http://localhost/v1/"


def test_a_redirect_keeps_the_method(app: TestApp) -> None:
    response = app.put_json("/buckets/b", {}, headers=ALICE, status=307)
    assert response.headers["Location"] == "http://localhost/v1/buckets/b"
    app.get("/v1/buckets/b", headers=ALICE, status=403)


def test_versioned_paths_are_not_redirected(app: TestApp) -> None:
    response = app.get("/v1/nothing-here", status=404)
    assert response.json["message"] == "/v1/nothing-here is not a URL of this server"
    assert app.get("/v1/", status=200).json["url"] == "http://localhost/v1/"
