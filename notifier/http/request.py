"""notifier's request class: who a request acts as and what it may do, defined once.

Set with Pyramid's public ``config.set_request_factory``.  The attributes are
plain ``reify`` properties of the class, so they cost nothing until read and
no class is built for them per request.  Includes that declare their own
attributes (cornice's ``current_service``) keep using Pyramid's
``add_request_method``.
"""

from __future__ import annotations

from pyramid.config import Configurator
from pyramid.decorator import reify
from pyramid.request import Request

from notifier.delivery.changes import current
from notifier.http.auth import prefixed_userid, principals
from notifier.http.permissions import Authorizer
from notifier.http.requestid import request_id


def authorizer(request: Request) -> Authorizer:
    """The permission checks of this request, on its transaction's session."""
    creators = request.registry.settings["notifier.bucket_create_principals"]
    return Authorizer(current(request).session, request.principals, creators)


class NotifierRequest(Request):
    """Pyramid's request, plus who it acts as and what it may do."""

    principals = reify(principals)
    prefixed_userid = reify(prefixed_userid)
    authorizer = reify(authorizer)
    request_id = reify(request_id)


def includeme(config: Configurator) -> None:
    config.set_request_factory(NotifierRequest)
