"""notifier's request class: the per-request attributes, defined once on the class.

Pyramid gives a request the attributes declared with
``add_request_method(reify=True)`` by building a new class for every request;
on a record create that was a sixth of the server's CPU (bench/, issue #7).
Declared here as plain reified attributes, they cost nothing until read.
Cornice declares one such attribute, ``current_service``: it moves here too,
and leaves Pyramid's per-request list once every include has run.
"""

from __future__ import annotations

from cornice.util import current_service
from pyramid.config import Configurator
from pyramid.decorator import reify
from pyramid.interfaces import IRequestExtensions
from pyramid.registry import Registry
from pyramid.request import Request

from notifier.http.auth import principals
from notifier.http.permissions import Authorizer
from notifier.http.transaction import current


def authorizer(request: Request) -> Authorizer:
    """The permission checks of this request, on its transaction's session."""
    creators = request.registry.settings["notifier.bucket_create_principals"]
    return Authorizer(current(request).session, request.principals, creators)


class NotifierRequest(Request):
    """Pyramid's request, plus who it acts as and what it may do."""

    principals = reify(principals)
    authorizer = reify(authorizer)
    current_service = reify(current_service)


def _drop_class_attributes_from_extensions(registry: Registry) -> None:
    extensions = registry.queryUtility(IRequestExtensions)
    if extensions is None:
        return
    for name in list(extensions.descriptors):
        if name in vars(NotifierRequest):
            del extensions.descriptors[name]


def includeme(config: Configurator) -> None:
    config.set_request_factory(NotifierRequest)
    # After every action of the default order, cornice's add_request_method included.
    config.action(None, _drop_class_attributes_from_extensions, args=(config.registry,), order=1)
