"""Kinto's JSON error responses: ``code``, ``errno``, ``error``, ``message``, ``details``.

Views raise ``http_error(...)``; the exception views here turn anything else
(Pyramid's own 404/405, cornice validation, a crash) into the same shape.
"""

from __future__ import annotations

import logging
from enum import IntEnum
from typing import Any

from pyramid import httpexceptions
from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.response import Response

from notifier.storage import StorageError

log = logging.getLogger(__name__)


class ERRORS(IntEnum):
    """Kinto's errno numbers (``kinto.core.errors.ERRORS``), the same names and values.

    There is no errno of its own for 415: Kinto answers a wrong Content-Type
    through cornice's validation errors, that is ``INVALID_PARAMETERS``.
    """

    MISSING_AUTH_TOKEN = 104
    INVALID_AUTH_TOKEN = 105
    BADJSON = 106
    INVALID_PARAMETERS = 107
    MISSING_PARAMETERS = 108
    INVALID_POSTED_DATA = 109
    INVALID_RESOURCE_ID = 110
    MISSING_RESOURCE = 111
    MISSING_CONTENT_LENGTH = 112
    REQUEST_TOO_LARGE = 113
    MODIFIED_MEANWHILE = 114
    METHOD_NOT_ALLOWED = 115
    VERSION_NOT_AVAILABLE = 116
    CLIENT_REACHED_CAPACITY = 117
    FORBIDDEN = 121
    CONSTRAINT_VIOLATED = 122
    BACKEND = 201
    SERVICE_DEPRECATED = 202
    UNDEFINED = 999


#: The ``error`` word Kinto gives validation errors (its cornice error handler),
#: whatever their status: a 400 for a bad parameter, a 415 for a wrong Content-Type.
INVALID_PARAMETERS_ERROR = "Invalid parameters"


def http_error(
    status: int,
    errno: ERRORS,
    message: str,
    details: Any = None,
    headers: dict[str, str] | None = None,
    title: str | None = None,
) -> httpexceptions.HTTPException:
    """An HTTP exception whose body is Kinto's error JSON; ``error`` is ``title``,
    by default the status's reason phrase."""
    error_class = httpexceptions.status_map[status]
    error: httpexceptions.HTTPException = error_class(headers=headers)
    body: dict[str, Any] = {
        "code": status,
        "errno": int(errno),
        "error": title or error.title,
        "message": message,
    }
    if details is not None:
        body["details"] = details
    error.json_body = body
    error.content_type = "application/json"
    return error


def invalid_parameter(location: str, name: str, description: str) -> httpexceptions.HTTPException:
    """400 naming the parameter: ``"_limit in querystring: must be ..."``."""
    return http_error(
        400,
        ERRORS.INVALID_PARAMETERS,
        f"{name} in {location}: {description}",
        details=[{"location": location, "name": name, "description": description}],
    )


def trailing_slash_redirect(request: Request) -> Response | None:
    """Kinto's 307 from ``/v1/buckets/`` to ``/v1/buckets`` (``/v1/`` itself is the root)."""
    path = request.path_info
    if not path.endswith("/") or path.count("/") < 3:
        return None
    location = request.application_url + path.rstrip("/")
    if request.query_string:
        location += "?" + request.query_string
    return httpexceptions.HTTPTemporaryRedirect(location=location)


def json_http_error(context: httpexceptions.HTTPException, request: Request) -> Response:
    if context.code == 404 and not request.matched_route:
        redirect = trailing_slash_redirect(request)
        if redirect is not None:
            return redirect
    if context.content_type == "application/json" and context.body:
        return context
    errno_by_status = {
        401: ERRORS.MISSING_AUTH_TOKEN,
        403: ERRORS.FORBIDDEN,
        404: ERRORS.MISSING_RESOURCE,
        405: ERRORS.METHOD_NOT_ALLOWED,
        406: ERRORS.INVALID_PARAMETERS,
        413: ERRORS.REQUEST_TOO_LARGE,
        415: ERRORS.INVALID_PARAMETERS,
    }
    if context.code in (304,) or context.code < 400:
        return context
    errno = errno_by_status.get(context.code, ERRORS.UNDEFINED)
    messages = {
        404: f"{request.path} is not a URL of this server",
        405: f"{request.method} is not allowed on {request.path}",
    }
    message = messages.get(context.code, context.detail or context.explanation)
    title = INVALID_PARAMETERS_ERROR if context.code == 415 else None
    error = http_error(
        context.code, errno, str(message), headers=dict(context.headers), title=title
    )
    error.headers.pop("Content-Length", None)
    error.content_type = "application/json"
    return error


def _storage_error_view(context: StorageError, request: Request) -> Response:
    log.error("storage failed on %s %s: %s", request.method, request.path, context)
    return http_error(
        503,
        ERRORS.BACKEND,
        "The storage backend is unavailable; retry later",
        headers={"Retry-After": "5"},
    )


def _crash_view(context: Exception, request: Request) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.path)
    return http_error(
        500,
        ERRORS.UNDEFINED,
        "An unexpected error occurred; it has been logged on the server",
        details=None,
    )


def add_error_views(config: Configurator) -> None:
    """Render every error as Kinto's JSON.

    Called directly from ``notifier.includeme`` (not through ``include``), so
    these views override the ones cornice registers from deeper down.
    """
    config.add_view(json_http_error, context=httpexceptions.HTTPException)
    # cornice has views for these two exact classes, which win over a base class view.
    config.add_view(json_http_error, context=httpexceptions.HTTPNotFound)
    config.add_view(json_http_error, context=httpexceptions.HTTPForbidden)
    config.add_view(_storage_error_view, context=StorageError)
    config.add_view(_crash_view, context=Exception)
