"""A batch cannot nest, however its path is spelled, and its parts are checked (issue 14)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import webtest

from tests.apps import running
from tests.conftest import ALICE, SECRET

NESTING = "a batch cannot contain a batch (however its path is spelled)"


@pytest.fixture
def app(backend_settings: dict[str, str]) -> Iterator[webtest.TestApp]:
    settings = {**backend_settings, "notifier.userid_hmac_secret": SECRET}
    with running(settings) as wsgi_app:
        yield webtest.TestApp(wsgi_app)


def batch(app: webtest.TestApp, body: Any, status: int) -> dict[str, Any]:
    result: dict[str, Any] = app.post_json("/v1/batch", body, headers=ALICE, status=status).json
    return result


@pytest.mark.parametrize(
    "path",
    [
        "/batch",
        "/v1/batch",
        "/%62atch",
        "/%62%61tch",
        "/v1/%62atch",
        "/v1//batch",
        "/buckets/../batch",
        "/./batch/",
        "/batch?x=1",
        "/%2Fbatch",
    ],
)
def test_a_nested_batch_is_refused_however_spelled(app: webtest.TestApp, path: str) -> None:
    body = batch(app, {"requests": [{"method": "POST", "path": path, "body": {}}]}, 400)
    assert body["message"] == f"requests[0].path in body: {NESTING}"


def test_nesting_through_defaults_is_refused_at_once(app: webtest.TestApp) -> None:
    inner: dict[str, Any] = {"defaults": {"method": "POST", "path": "/%62atch"}, "requests": []}
    for _ in range(3):
        inner = {
            "defaults": {"method": "POST", "path": "/%62atch", "body": inner},
            "requests": [{}] * 25,
        }
    started = time.monotonic()
    body = app.post_json("/v1/batch", inner, status=400).json
    assert time.monotonic() - started < 1
    assert body["message"] == f"defaults.path in body: {NESTING}"


def test_a_batch_subrequest_cannot_reach_the_batch_view(app: webtest.TestApp) -> None:
    """The view's own backstop: reached through a path Pyramid routes to /v1/batch."""
    from notifier.http.views import batch as batch_view

    request = webtest.TestRequest.blank("/v1/batch", method="POST", headers=ALICE)
    request.environ[batch_view.IN_BATCH] = True
    request.json_body = {"requests": [{"path": "/buckets"}]}
    body = app.do_request(request, status=400).json
    assert body["message"] == f"path in body: {NESTING}"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"requests": [{"path": "/buckets", "headers": ["x"]}]},
            'requests[0].headers in body: must be an object of header values: {"Name": "v"}',
        ),
        (
            {"requests": [{"path": "/buckets", "headers": {"X": {"nested": 1}}}]},
            'requests[0].headers in body: must be an object of header values: {"Name": "v"}',
        ),
        (
            {"requests": [{"path": "/buckets"}], "defaults": {"headers": "x"}},
            'defaults.headers in body: must be an object of header values: {"Name": "v"}',
        ),
        (
            {"requests": [{"path": "/buckets", "method": 3}]},
            "requests[0].method in body: must be one of GET, HEAD, POST, PUT, PATCH, DELETE",
        ),
    ],
)
def test_malformed_parts(app: webtest.TestApp, body: dict[str, Any], message: str) -> None:
    assert batch(app, body, 400)["message"] == message


def test_a_subrequest_with_bad_bytes_or_type_fails_in_its_place(app: webtest.TestApp) -> None:
    requests = [
        {"method": "PUT", "path": "/buckets/b", "body": {}},
        {"method": "GET", "path": "/buckets/b/collections/%ff"},
        {"method": "PUT", "path": "/buckets/c", "body": {}, "headers": {"Content-Type": "text/x"}},
    ]
    responses = batch(app, {"requests": requests}, 200)["responses"]
    assert [each["status"] for each in responses] == [201, 400, 415]
    assert responses[1]["body"]["message"] == (
        "The path is not UTF-8: percent-encode UTF-8 bytes only"
    )
    assert responses[2]["body"]["message"] == (
        "Content-Type in header: Content-Type header should be one of ['application/json'],"
        " got 'text/x'"
    )
