"""One storage transaction per request, and the changes it made.

The tween opens a session before the view runs and commits it when the
response is a success; any error (raised, or a 4xx/5xx response) rolls it
back.  Around the commit it notifies ``BeforeCommit`` (the outbox writes its
pending deliveries there, inside the transaction) and ``AfterCommit`` (the
dispatcher calls the listeners there).  A batch's subrequests share the
transaction of the batch request.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pyramid.config import Configurator
from pyramid.registry import Registry
from pyramid.request import Request
from pyramid.response import Response
from pyramid.tweens import EXCVIEW

from notifier.http.errors import ERRORS, http_error
from notifier.storage import Session, Storage

log = logging.getLogger(__name__)

ENVIRON_KEY = "notifier.http.transaction"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


@dataclass
class Change:
    """One object changed by the request: what an event will be made of."""

    action: str
    resource_name: str
    uri: str
    parents: dict[str, str]
    old: dict[str, Any] | None
    new: dict[str, Any]
    user_id: str | None

    @classmethod
    def make(
        cls,
        action: str,
        resource_name: str,
        parent_uri: str,
        old: dict[str, Any] | None,
        new: dict[str, Any],
        user_id: str | None,
    ) -> Change:
        parts = parent_uri.strip("/").split("/") if parent_uri else []
        parents = {
            f"{kind[:-1]}_id": value for kind, value in zip(parts[::2], parts[1::2], strict=True)
        }
        uri = f"{parent_uri}/{resource_name}s/{new['id']}"
        return cls(action, resource_name, uri, parents, old, new, user_id)


@dataclass
class RequestTransaction:
    session: Session
    changes: list[Change] = field(default_factory=list)


@dataclass
class BeforeCommit:
    request: Request
    transaction: RequestTransaction


@dataclass
class AfterCommit:
    request: Request
    transaction: RequestTransaction


def current(request: Request) -> RequestTransaction:
    """The transaction of this request (or of the batch it belongs to)."""
    state: RequestTransaction = request.environ[ENVIRON_KEY]
    return state


def _may_write(method: str, path: str) -> bool:
    """Unsafe methods write; so does a read of the default bucket, created on first use."""
    return method not in SAFE_METHODS or "/buckets/default/" in path + "/"


def transaction_tween_factory(
    handler: Callable[[Request], Response], registry: Registry
) -> Callable[[Request], Response]:
    storage: Storage = registry.notifier_storage
    max_body = int(registry.settings["notifier.max_request_body_bytes"])

    def transaction_tween(request: Request) -> Response:
        if (request.content_length or 0) > max_body:
            raise http_error(
                413,
                ERRORS.REQUEST_TOO_LARGE,
                f"The request body is {request.content_length} bytes;"
                f" the limit is {max_body} (notifier.max_request_body_bytes)",
            )
        state = RequestTransaction(storage.session(write=_may_write(request.method, request.path)))
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
