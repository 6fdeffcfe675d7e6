"""The tween that counts and times every HTTP request, with its final status.

It sits over Pyramid's exception view tween (``over=EXCVIEW``), so an error
is counted with the status its error view answered; one that escapes every
view counts as 500.  The route label is the matched route's name (cornice's
service name, ``record-plural``), never the URL.
"""

from __future__ import annotations

from collections.abc import Callable
from time import perf_counter

from pyramid.registry import Registry
from pyramid.request import Request
from pyramid.response import Response
from zope.interface import Interface

from notifier.plugins.prometheus.instruments import UNMATCHED, HttpMetrics


class IHttpMetrics(Interface):
    """The registry utility the tween finds the app's HTTP instruments under."""


def route_of(request: Request) -> str:
    route = getattr(request, "matched_route", None)
    return UNMATCHED if route is None else str(route.name)


def metrics_tween_factory(
    handler: Callable[[Request], Response], registry: Registry
) -> Callable[[Request], Response]:
    metrics: HttpMetrics = registry.getUtility(IHttpMetrics)

    def metrics_tween(request: Request) -> Response:
        started = perf_counter()
        try:
            response = handler(request)
        except BaseException:
            metrics.observe(request.method, route_of(request), 500, perf_counter() - started)
            raise
        metrics.observe(
            request.method, route_of(request), response.status_code, perf_counter() - started
        )
        return response

    return metrics_tween
