"""Checks on what a request sends before any view or storage sees it.

A tween just above the transaction's: the path and the querystring must be
UTF-8 without NUL (PostgreSQL cannot compare NUL, webob raises on bad UTF-8),
the body must fit ``notifier.max_request_body_bytes`` (Content-Length first,
then a capped read of a chunked body, so no oversized body is ever held), and
a body sent to a write must be JSON by its Content-Type, as in Kinto (no
Content-Type at all is read as JSON).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import unquote_to_bytes

from pyramid.config import Configurator
from pyramid.registry import Registry
from pyramid.request import Request
from pyramid.response import Response
from pyramid.tweens import EXCVIEW

from notifier.http.errors import ERRORS, INVALID_PARAMETERS_ERROR, http_error

JSON = "application/json"
MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
#: The Content-Types each write accepts (Kinto's, plus JSON Patch for PATCH).
CONTENT_TYPES = {"POST": (JSON,), "PUT": (JSON,), "PATCH": (JSON, MERGE_PATCH, JSON_PATCH)}


def _decoded(raw: bytes, what: str) -> str:
    """``raw`` as UTF-8 text without NUL, else a 400."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise http_error(
            400,
            ERRORS.INVALID_PARAMETERS,
            f"The {what} is not UTF-8: percent-encode UTF-8 bytes only",
            details=[{"location": what, "name": None, "description": "not UTF-8"}],
        ) from None
    if "\x00" in text:
        raise http_error(
            400,
            ERRORS.INVALID_PARAMETERS,
            f"The {what} contains the NUL character (%00); remove it",
            details=[{"location": what, "name": None, "description": "contains NUL"}],
        )
    return text


def check_url(request: Request) -> None:
    """400 unless the path and the querystring are NUL-free UTF-8."""
    # WSGI strings are latin-1; the server decoded the path's %XX, not the querystring's.
    _decoded(request.environ.get("PATH_INFO", "").encode("latin-1"), "path")
    query = request.environ.get("QUERY_STRING", "").encode("latin-1")
    _decoded(unquote_to_bytes(query.replace(b"+", b" ")), "querystring")


def _too_large(size: str, limit: int) -> Exception:
    return http_error(
        413,
        ERRORS.REQUEST_TOO_LARGE,
        f"The request body is {size} bytes; the limit is {limit} (notifier.max_request_body_bytes)",
    )


def read_capped_body(request: Request, limit: int) -> None:
    """Refuse a body over ``limit`` bytes without reading more than ``limit + 1`` of it."""
    length = request.content_length
    if length is not None:
        if length > limit:
            raise _too_large(str(length), limit)
        return  # webob reads exactly Content-Length bytes when the view asks
    if not request.is_body_readable:
        return
    body = request.body_file_raw.read(limit + 1)
    if len(body) > limit:
        raise _too_large(f"over {limit}", limit)
    request.body = body


def check_content_type(request: Request) -> None:
    """415 when a write's body is declared as something other than JSON (Kinto's message)."""
    accepted = CONTENT_TYPES.get(request.method)
    if accepted is None or not request.headers.get("Content-Type"):
        return
    if request.content_type in accepted:
        return
    description = f"Content-Type header should be one of {list(accepted)}"
    raise http_error(
        415,
        ERRORS.INVALID_PARAMETERS,
        f"Content-Type in header: {description}, got {request.content_type!r}",
        details=[{"location": "header", "name": "Content-Type", "description": description}],
        title=INVALID_PARAMETERS_ERROR,
    )


def validation_tween_factory(
    handler: Callable[[Request], Response], registry: Registry
) -> Callable[[Request], Response]:
    limit = int(registry.settings["notifier.max_request_body_bytes"])

    def validation_tween(request: Request) -> Response:
        check_url(request)
        read_capped_body(request, limit)
        check_content_type(request)
        return handler(request)

    return validation_tween


def includeme(config: Configurator) -> None:
    config.add_tween(
        "notifier.http.validation.validation_tween_factory",
        under=EXCVIEW,
        over="notifier.http.transaction.transaction_tween_factory",
    )


def server_body_limit(settings: dict[str, object]) -> int:
    """The body size at which the WSGI server itself refuses, before reading the body.

    Twice the app's limit: bodies up to it get the app's JSON 413, and waitress
    answers its own plain 413 to anything larger without buffering it.
    """
    return 2 * int(str(settings["notifier.max_request_body_bytes"])) + 1
