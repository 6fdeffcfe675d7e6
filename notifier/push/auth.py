"""Who a push request is, and the checks at connect: as the API would answer.

Credentials are the API's (a Basic ``Authorization`` header, read with the
API's ``notifier.auth_policies`` in their order) or a subscription token
(``?token=``).  The service runs the two policies notifier ships without
Pyramid: ``basicauth`` (``notifier.permissions``) and ``account``
(``notifier.accounts``, on the same storage).  A policy a third-party plugin
adds runs only inside the API, so with one configured the service refuses a
Basic header (401, saying to use a token) rather than name the caller
otherwise than the API would.  The read check is ``notifier.permissions``:
the same rules and principals as the API.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from notifier.accounts import AccountPasswords, stored_account
from notifier.permissions import basic_userid, default_bucket_id, parse_basic
from notifier.push.tokens import InvalidToken, verify
from notifier.storage import Storage, transaction

#: The policies of ``notifier.auth_policies`` that the push service runs itself.
KNOWN_POLICIES = ("basicauth", "account")

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


class BasicPolicies:
    """Basic credentials to a userid: ``notifier.auth_policies`` tried in order, as the API."""

    def __init__(self, policies: Sequence[str], secret: str, storage: Storage) -> None:
        self.policies = tuple(policies)
        self.secret = secret
        self.storage = storage
        self.unknown = [name for name in self.policies if name not in KNOWN_POLICIES]
        self.accounts = AccountPasswords() if "account" in self.policies else None

    def userid(self, user: str, password: str) -> str | None:
        """The first policy's userid, or None (anonymous).  May block: storage and bcrypt."""
        for name in self.policies:
            if name == "basicauth":
                return basic_userid(self.secret, user, password)
            if name == "account" and self.accounts is not None:
                with transaction(self.storage, write=False) as session:
                    account = stored_account(session, user)
                userid = self.accounts.userid(account, user, password)
                if userid is not None:
                    return userid
        return None


async def userid_of(request: web.Request, secret: str, policies: BasicPolicies) -> str | None:
    """The caller's userid, or None when it sent no credentials.

    Raises 401 for a token that is malformed, forged or expired: a client
    that sent one expects to be someone, and must learn that it is not; and
    for a Basic header when a policy only the API runs is configured.
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
    if policies.unknown:
        raise http_error(
            401,
            "The push service cannot check Basic credentials with the authentication"
            f" policies {', '.join(policies.unknown)} (notifier.auth_policies): subscribe"
            " with ?token= from POST /v1/push/tokens",
        )
    if policies.accounts is None:
        return policies.userid(*credentials)  # an HMAC: no need for a thread
    return await asyncio.to_thread(policies.userid, *credentials)


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
