"""``POST /v1/batch``: several requests in one transaction.

As in Kinto, a subrequest that fails with a 4xx is reported in its place and
the others go on; a server error fails the whole batch and rolls every
subrequest back.  Subrequests carry the batch's request id: in their log
lines, their events, the ``X-Request-Id`` of their responses, and their
summary lines (``notifier.subrequest.summary``, as Kinto's).
"""

from __future__ import annotations

import json
import posixpath
import time
from typing import Any
from urllib.parse import quote, unquote

from cornice import Service
from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPException
from pyramid.request import Request
from pyramid.response import Response

from notifier.delivery.changes import ENVIRON_KEY, current
from notifier.http.errors import invalid_parameter, json_http_error
from notifier.http.requestid import ENVIRON_KEY as REQUEST_ID_KEY
from notifier.http.summary import SUBREQUEST_SUMMARY, log_summary
from notifier.http.validation import check_content_type, check_url
from notifier.http.views.requests import json_body
from notifier.logs.context import HEADER

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
PREFIX = "/v1"
URL_SAFE = "/?&=%:@!$'()*+,;~-._"
NO_NESTING = "a batch cannot contain a batch (however its path is spelled)"
#: Set in a subrequest's environ: the batch view refuses to run inside a batch.
IN_BATCH = "notifier.http.batch.subrequest"

batch = Service(name="batch", path="/batch", description="Several requests in one transaction")


def _normalised(path: str) -> str:
    """The path Pyramid will route: percent-decoded once (as ``Request.blank`` does),
    dot segments and repeated slashes resolved, without the querystring."""
    decoded = unquote(path.split("?", 1)[0], errors="replace")
    return posixpath.normpath("/" + decoded.lstrip("/")).rstrip("/")


def is_batch_path(path: str) -> bool:
    """True for every spelling of ``/batch`` or ``/v1/batch``: a batch cannot nest."""
    normalised = _normalised(path)
    return normalised in ("/batch", PREFIX + "/batch")


def _headers(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(v, str | int | float) and not isinstance(v, bool) for v in value.values()
    ):
        raise invalid_parameter("body", where, 'must be an object of header values: {"Name": "v"}')
    return {str(k): str(v) for k, v in value.items()}


def _merge(defaults: dict[str, Any], request: Any, index: int) -> dict[str, Any]:
    if not isinstance(request, dict):
        raise invalid_parameter("body", f"requests[{index}]", "must be an object with a path")
    merged = {**defaults, **request}
    headers = _headers(request.get("headers"), f"requests[{index}].headers")
    merged["headers"] = {**_headers(defaults.get("headers"), "defaults.headers"), **headers}
    path = merged.get("path")
    where = f"requests[{index}].path"
    if not isinstance(path, str) or not path.startswith("/"):
        raise invalid_parameter("body", where, "must be a path like /buckets/b")
    method = merged.get("method", "GET")
    if not isinstance(method, str) or method.upper() not in METHODS:
        raise invalid_parameter(
            "body", f"requests[{index}].method", f"must be one of {', '.join(METHODS)}"
        )
    if is_batch_path(path):
        raise invalid_parameter("body", where, NO_NESTING)
    if not path.startswith(PREFIX + "/"):
        path = PREFIX + path
    merged.update(path=path, method=method.upper())
    return merged


def _read_requests(request: Request) -> list[dict[str, Any]]:
    body = json_body(request)
    if not isinstance(body, dict) or not isinstance(body.get("requests"), list):
        raise invalid_parameter(
            "body", "requests", 'must be a list: {"requests": [{"method": ..., "path": ...}]}'
        )
    limit = request.registry.settings["notifier.batch_max_requests"]
    count = len(body["requests"])
    if not 0 < count <= limit:
        raise invalid_parameter(
            "body",
            "requests",
            f"must hold 1 to {limit} requests (notifier.batch_max_requests), got {count}",
        )
    defaults = body.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise invalid_parameter("body", "defaults", "must be an object")
    if isinstance(defaults.get("path"), str) and is_batch_path(defaults["path"]):
        raise invalid_parameter("body", "defaults.path", NO_NESTING)
    return [_merge(defaults, each, index) for index, each in enumerate(body["requests"])]


def _subrequest(parent: Request, spec: dict[str, Any]) -> Request:
    headers = {
        k: v
        for k, v in parent.headers.items()
        if k.lower() not in ("content-length", "content-type")
    }
    headers.update(spec["headers"])
    # The parent's class: the subrequest needs the same attributes (notifier.http.request).
    # Request.blank takes an ASCII URL: other characters go percent-encoded as UTF-8.
    path = quote(spec["path"], safe=URL_SAFE)
    sub = type(parent).blank(path, base_url=parent.application_url, headers=headers)
    sub.method = spec["method"]
    if "body" in spec and spec["method"] not in ("GET", "HEAD", "DELETE"):
        sub.body = json.dumps(spec["body"]).encode()
        # Request.blank read the subrequest's own Content-Type header, whatever its case.
        sub.content_type = sub.content_type or "application/json"
    sub.environ[ENVIRON_KEY] = parent.environ[ENVIRON_KEY]
    sub.environ[IN_BATCH] = True
    sub.environ[REQUEST_ID_KEY] = parent.environ.get(REQUEST_ID_KEY)
    return sub


def _describe(spec: dict[str, Any], response: Response) -> dict[str, Any]:
    body = json.loads(response.body) if response.body else None
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
    return {"status": response.status_code, "path": spec["path"], "body": body, "headers": headers}


@batch.post()
def post_batch(request: Request) -> dict[str, Any]:
    """Run each subrequest in a savepoint: a 4xx undoes its own writes and events only."""
    if request.environ.get(IN_BATCH):  # the backstop for a spelling is_batch_path missed
        raise invalid_parameter("body", "path", NO_NESTING)
    state = current(request)
    responses = []
    for index, spec in enumerate(_read_requests(request)):
        sub = _subrequest(request, spec)
        savepoint, changes_before = f"subrequest_{index}", len(state.changes)
        state.session.savepoint(savepoint)
        started = time.perf_counter()
        try:
            check_url(sub)  # tweens do not run for subrequests: their checks do
            check_content_type(sub)
            response = request.invoke_subrequest(sub, use_tweens=False)
        except HTTPException as error:
            response = json_http_error(error, sub)
        log_summary(sub, response.status_code, started, SUBREQUEST_SUMMARY)
        if request.request_id:
            response.headers[HEADER] = request.request_id
        if response.status_code >= 400:
            state.session.rollback_to(savepoint)
            del state.changes[changes_before:]
        else:
            state.session.release(savepoint)
        responses.append(_describe(spec, response))
    return {"responses": responses}


def includeme(config: Configurator) -> None:
    config.add_cornice_service(batch)
