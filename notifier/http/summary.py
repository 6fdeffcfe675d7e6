"""The request summary: one line per request, and one per batch subrequest, as Kinto's.

Kinto logs ``request.summary`` and ``subrequest.summary``; notifier's are
``notifier.request.summary`` and ``notifier.subrequest.summary`` at INFO,
so an INI can route or silence them by name.  The fields ride on the record
(``extra``): the JSON format writes them as keys, the text format reads them
in the message.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from pyramid.request import Request

from notifier.http.auth import IDENTITY_KEY
from notifier.logs.context import current_request_id

REQUEST_SUMMARY = logging.getLogger("notifier.request.summary")
SUBREQUEST_SUMMARY = logging.getLogger("notifier.subrequest.summary")


def known_userid(request: Request) -> str | None:
    """The userid authentication found for this request, if anything asked for it.

    Never computed here: the summary is written after the request's storage
    session closed, and an account's check needs it.
    """
    cached = request.environ.get(IDENTITY_KEY)
    if cached is None or cached[0] != request.environ.get("HTTP_AUTHORIZATION"):
        return None
    userid: str | None = cached[1]
    return userid


def summary_fields(request: Request, status: int, started: float) -> dict[str, Any]:
    """What the summary says: method, path, status, duration in ms, userid, request id."""
    return {
        "method": request.method,
        "path": request.path,
        "status": status,
        "duration_ms": round((time.perf_counter() - started) * 1000, 3),
        "userid": known_userid(request),
        "request_id": current_request_id(),
    }


def log_summary(
    request: Request, status: int, started: float, logger: logging.Logger = REQUEST_SUMMARY
) -> None:
    """Write the summary line of ``request``, which ended with ``status``."""
    if not logger.isEnabledFor(logging.INFO):
        return
    fields = summary_fields(request, status, started)
    logger.info(
        "%s %s %d %.1fms userid=%s request_id=%s",
        fields["method"],
        fields["path"],
        status,
        fields["duration_ms"],
        fields["userid"] or "-",
        fields["request_id"] or "-",
        extra=fields,
    )
