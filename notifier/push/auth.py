"""Who a push request is, and the checks at connect: as the API would answer.

Credentials are the API's (a Basic ``Authorization`` header, keyed with the
same userid secret) or a subscription token (``?token=``).  The read check
is ``notifier.permissions``: the same rules and principals as the API.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from notifier.permissions import basic_userid, default_bucket_id, parse_basic
from notifier.push.tokens import InvalidToken, verify

#: Kinto's errnos for the errors the push service answers.
ERRNOS = {400: 107, 401: 104, 403: 121, 404: 111}
REASONS = {400: "Invalid parameters", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found"}


def http_error(status: int, message: str, **extra: Any) -> web.HTTPException:
    """An error in Kinto's JSON shape, ready to raise."""
    body = {"code": status, "errno": ERRNOS[status], "error": REASONS[status], "message": message}
    classes: dict[int, type[web.HTTPException]] = {
        400: web.HTTPBadRequest,
        401: web.HTTPUnauthorized,
        403: web.HTTPForbidden,
        404: web.HTTPNotFound,
    }
    headers = {"WWW-Authenticate": 'Basic realm="notifier"'} if status == 401 else None
    return classes[status](
        text=json.dumps({**body, **extra}), content_type="application/json", headers=headers
    )


def userid_of(request: web.Request, secret: str) -> str | None:
    """The caller's userid, or None when it sent no credentials.

    Raises 401 for a token that is malformed, forged or expired: a client
    that sent one expects to be someone, and must learn that it is not.
    """
    token = request.query.get("token")
    if token is not None:
        try:
            return verify(secret, token)
        except InvalidToken as error:
            raise http_error(401, str(error)) from None
    credentials = parse_basic(request.headers.get("Authorization", ""))
    if credentials is None:
        return None
    return basic_userid(secret, *credentials)


def real_bucket_id(bucket_id: str, userid: str | None, secret: str) -> str:
    """``default`` names the caller's own bucket, as in the API."""
    if bucket_id != "default":
        return bucket_id
    if userid is None:
        raise http_error(
            401, "The default bucket is the authenticated user's own: send Basic credentials"
        )
    return default_bucket_id(secret, userid)


def refuse(userid: str | None, uri: str) -> web.HTTPException:
    """What the API answers a caller that may not read ``uri``."""
    if userid is None:
        return http_error(401, f"Authentication is required to read {uri}")
    return http_error(403, f"This user may not read {uri}")
