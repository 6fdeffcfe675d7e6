"""Response bodies and the caching headers that go with them."""

from __future__ import annotations

from email.utils import formatdate
from typing import Any
from urllib.parse import urlencode

from pyramid.request import Request
from pyramid.response import Response

from notifier.storage import Permissions


def _cache_headers(response: Response, stamp: int) -> None:
    response.headers["ETag"] = f'"{stamp}"'
    response.headers["Last-Modified"] = formatdate(stamp / 1000.0, usegmt=True)


def _json(request: Request, body: Any, stamp: int, status: int = 200) -> Response:
    response = Response(
        json_body=body, status=status, charset="utf-8", content_type="application/json"
    )
    _cache_headers(response, stamp)
    if request.method == "HEAD":
        response.body = b""
    return response


def single(
    request: Request, obj: dict[str, Any], permissions: Permissions | None, status: int = 200
) -> Response:
    body: dict[str, Any] = {"data": obj}
    if permissions is not None:
        body["permissions"] = {name: sorted(who) for name, who in permissions.items()}
    return _json(request, body, obj["last_modified"], status)


def listing(
    request: Request,
    texts: list[str],
    stamp: int,
    next_page: str | None,
    total: int | None,
) -> Response:
    """``{"data": [...]}`` around objects that are already JSON text."""
    body = f'{{"data":[{",".join(texts)}]}}'.encode()
    response = Response(body=body, charset="utf-8", content_type="application/json")
    _cache_headers(response, stamp)
    if request.method == "HEAD":
        response.body = b""
    if next_page is not None:
        response.headers["Next-Page"] = next_page
    if total is not None:
        response.headers["Total-Objects"] = str(total)
    return response


def deleted_list(request: Request, tombstones: list[dict[str, Any]]) -> Response:
    stamp = max((each["last_modified"] for each in tombstones), default=0)
    return _json(request, {"data": tombstones}, stamp)


def not_modified(request: Request, stamp: int) -> Response:
    response = Response(status=304)
    _cache_headers(response, stamp)
    return response


def next_page_url(request: Request, token: str) -> str:
    params = [(key, value) for key, value in request.GET.items() if key != "_token"]
    params.append(("_token", token))
    return f"{request.application_url}{request.path}?{urlencode(params)}"
