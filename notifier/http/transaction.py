"""The tween that runs one storage transaction per request.

The record of the changes and the commit hooks belong to
``notifier.delivery.changes``; this tween drives them.  It opens a session
before the view runs and commits it when the response is a success; any
error (raised, or a 4xx/5xx response) rolls it back.  Around the commit it
notifies ``BeforeCommit`` (the dispatcher writes the outbox entries there,
inside the transaction) and ``AfterCommit`` (it delivers them there).  A
batch's subrequests share the transaction of the batch request.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from pyramid.config import Configurator
from pyramid.registry import Registry
from pyramid.request import Request
from pyramid.response import Response
from pyramid.tweens import EXCVIEW

from notifier.delivery.changes import (
    ENVIRON_KEY,
    AfterCommit,
    BeforeCommit,
    RequestTransaction,
)
from notifier.http.requestid import request_id
from notifier.state import state_of
from notifier.storage import Storage

log = logging.getLogger(__name__)

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def _may_write(method: str, path: str) -> bool:
    """Unsafe methods write; so does a read of the default bucket, created on first use."""
    return method not in SAFE_METHODS or "/buckets/default/" in path + "/"


def transaction_tween_factory(
    handler: Callable[[Request], Response], registry: Registry
) -> Callable[[Request], Response]:
    storage: Storage = state_of(registry).storage

    def transaction_tween(request: Request) -> Response:
        session = storage.session(write=_may_write(request.method, request.path))
        state = RequestTransaction(session, request_id=request_id(request))
        request.environ[ENVIRON_KEY] = state
        try:
            response = handler(request)
            if response.status_code >= 400:
                state.session.rollback()
                return response
            registry.notify(BeforeCommit(request, state))
            state.session.commit()
        except BaseException:
            state.session.rollback()
            raise
        registry.notify(AfterCommit(request, state))
        return response

    return transaction_tween


def includeme(config: Configurator) -> None:
    config.add_tween("notifier.http.transaction.transaction_tween_factory", under=EXCVIEW)
