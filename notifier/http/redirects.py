"""Kinto's redirects to the versioned API: ``/buckets`` -> ``/v1/buckets``, ``/v1`` -> ``/v1/``.

307 keeps the method and the body, so a client that posts to ``/__flush__``
or puts to ``/accounts/alice`` (as kinto-http's helpers do) gets there.
"""

from __future__ import annotations

from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPTemporaryRedirect
from pyramid.request import Request

PREFIX = "/v1"


def to_version(request: Request) -> HTTPTemporaryRedirect:
    """307 to the same path and query under ``/v1``."""
    path = request.path_info
    target = PREFIX + "/" if path == PREFIX else PREFIX + path
    location = request.application_url + target
    if request.query_string:
        location += "?" + request.query_string
    return HTTPTemporaryRedirect(location=location)


def includeme(config: Configurator) -> None:
    # Any path not naming a version (as Kinto's route): /v2/... stays a 404.
    config.add_route("redirect_to_version", r"/{path:(?!v[0-9]+(?:/|$))[^\r\n]*}")
    config.add_view(to_version, route_name="redirect_to_version")
    config.add_route("redirect_to_root", PREFIX)
    config.add_view(to_version, route_name="redirect_to_root")
