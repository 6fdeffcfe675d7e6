"""Short-lived signed subscription tokens, for clients that cannot send headers.

Browsers give EventSource and WebSocket no ``Authorization`` header, so the API
issues a token to an authenticated user (``POST /v1/push/tokens``) and the
push service accepts it as ``?token=``.  A token names the userid and an
expiry, signed with HMAC-SHA256 under a key derived from
``notifier.userid_hmac_secret``: nothing is stored, and changing the secret
revokes every token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

PREFIX = "v1"
#: Keeps the token key apart from every other use of the userid secret.
PURPOSE = b"notifier.push.subscription-token"


class InvalidToken(ValueError):
    """The token is malformed, forged or expired; the message says which."""


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), PURPOSE, hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue(secret: str, userid: str, ttl: float, now: float | None = None) -> tuple[str, int]:
    """A token for ``userid`` valid ``ttl`` seconds; returns it and its expiry (epoch s)."""
    expires = int((time.time() if now is None else now) + ttl)
    body = _b64(json.dumps({"sub": userid, "exp": expires}, separators=(",", ":")).encode())
    signature = _b64(hmac.new(_key(secret), f"{PREFIX}.{body}".encode(), "sha256").digest())
    return f"{PREFIX}.{body}.{signature}", expires


def verify(secret: str, token: str, now: float | None = None) -> str:
    """The userid of a valid token.  Raises InvalidToken saying what is wrong."""
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != PREFIX:
        raise InvalidToken("the token is malformed: get a new one from POST /v1/push/tokens")
    expected = hmac.new(_key(secret), f"{PREFIX}.{parts[1]}".encode(), "sha256").digest()
    try:
        signature = _unb64(parts[2])
        claims = json.loads(_unb64(parts[1]))
    except ValueError:
        raise InvalidToken(
            "the token is malformed: get a new one from POST /v1/push/tokens"
        ) from None
    if not hmac.compare_digest(signature, expected) or not isinstance(claims, dict):
        raise InvalidToken("the token's signature does not match: get a new one")
    if float(claims.get("exp", 0)) < (time.time() if now is None else now):
        raise InvalidToken("the token has expired: get a new one from POST /v1/push/tokens")
    return str(claims["sub"])
