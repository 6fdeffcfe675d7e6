"""The request class is set through Pyramid's public API; includes keep their attributes."""

from __future__ import annotations

from pyramid.interfaces import IRequestExtensions, IRequestFactory
from webtest import TestApp

from notifier.http.request import NotifierRequest
from tests.conftest import ALICE, ALICE_ID


def test_the_request_class_is_notifiers_and_cornice_keeps_current_service(app: TestApp) -> None:
    registry = app.app.registry
    assert registry.queryUtility(IRequestFactory) is NotifierRequest
    assert {"principals", "authorizer"} <= set(vars(NotifierRequest))
    # Declared by cornice with add_request_method, left where Pyramid put it.
    assert "current_service" in registry.queryUtility(IRequestExtensions).descriptors


def test_the_attributes_work_in_requests_and_batch_subrequests(app: TestApp) -> None:
    app.put_json("/v1/buckets/b", {}, headers=ALICE, status=201)
    batch = app.post_json(
        "/v1/batch",
        {"requests": [{"method": "PUT", "path": "/buckets/b/collections/c", "body": {}}]},
        headers=ALICE,
    ).json
    assert batch["responses"][0]["status"] == 201
    assert batch["responses"][0]["body"]["permissions"]["write"] == [ALICE_ID]
