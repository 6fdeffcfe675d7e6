"""The outermost tween: every request gets an id, every response says it, every line logs it.

A client's (or a proxy's) ``X-Request-Id`` is kept when it is 1 to 128
characters of ``[A-Za-z0-9._-]``; otherwise, or without one, a fresh id is
made.  The tween sits right under Pyramid's ingress, above the exception
view, so the id is set before anything logs and the response it sees is the
final one: errors, 304s and redirects alike.  It makes the id current for
the request's thread (``notifier.logs.context``), so log lines (the
listeners' too) and the events of the request's writes carry it, and it
writes the request summary last.  Batch subrequests run inside the batch's
request, so they carry its id.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from pyramid.config import Configurator
from pyramid.registry import Registry
from pyramid.request import Request
from pyramid.response import Response
from pyramid.tweens import INGRESS

from notifier.http.summary import log_summary
from notifier.logs.context import HEADER, accept_request_id, request_id_scope

#: Where the request's environ keeps its id.
ENVIRON_KEY = "notifier.request_id"


def request_id(request: Request) -> str | None:
    """The id of ``request`` (set by the tween; None for a request that never went through it)."""
    value: str | None = request.environ.get(ENVIRON_KEY)
    return value


def request_id_tween_factory(
    handler: Callable[[Request], Response], registry: Registry
) -> Callable[[Request], Response]:
    def request_id_tween(request: Request) -> Response:
        started = time.perf_counter()
        value = accept_request_id(request.headers.get(HEADER))
        request.environ[ENVIRON_KEY] = value
        with request_id_scope(value):
            try:
                response = handler(request)
            except BaseException:
                log_summary(request, 500, started)
                raise
            response.headers[HEADER] = value
            log_summary(request, response.status_code, started)
        return response

    return request_id_tween


def includeme(config: Configurator) -> None:
    config.add_tween("notifier.http.requestid.request_id_tween_factory", under=INGRESS)
