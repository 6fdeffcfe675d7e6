"""The request class carries notifier's per-request attributes itself."""

from __future__ import annotations

from pyramid.interfaces import IRequestExtensions
from webtest import TestApp

from notifier.http.request import NotifierRequest
from tests.conftest import ALICE, ALICE_ID


def test_pyramid_builds_no_class_per_request(app: TestApp) -> None:
    # Cornice's current_service and notifier's attributes live on NotifierRequest instead.
    extensions = app.app.registry.queryUtility(IRequestExtensions)
    assert extensions.descriptors == {}
    assert {"principals", "authorizer", "current_service"} <= set(vars(NotifierRequest))


def test_the_attributes_work_in_requests_and_batch_subrequests(app: TestApp) -> None:
    app.put_json("/v1/buckets/b", {}, headers=ALICE, status=201)
    batch = app.post_json(
        "/v1/batch",
        {"requests": [{"method": "PUT", "path": "/buckets/b/collections/c", "body": {}}]},
        headers=ALICE,
    ).json
    assert batch["responses"][0]["status"] == 201
    assert batch["responses"][0]["body"]["permissions"]["write"] == [ALICE_ID]
