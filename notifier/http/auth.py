"""Basic-auth userids and the principals a request acts as.

As in Kinto, any user:password pair is accepted, and the userid is
``basicauth:`` + HMAC-SHA256(secret, "user:password"): the same pair always
maps to the same account, and the password is never stored.  That is the
``basicauth`` policy; ``notifier.auth_policies`` may put others before or
instead of it (``notifier.http.auth_policies``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyramid.config import Configurator
from pyramid.request import Request

from notifier.delivery.changes import current
from notifier.http.auth_policies import add_policy_directives
from notifier.permissions import (
    AUTHENTICATED,
    EVERYONE,
    basic_userid,
    hmac_digest,
    parse_basic,
    principals_with_groups,
)
from notifier.settings import SettingsError

__all__ = [
    "AUTHENTICATED",
    "EVERYONE",
    "IDENTITY_KEY",
    "BasicAuthSecurityPolicy",
    "basic_credentials",
    "hmac_digest",
    "includeme",
    "principals",
]

IDENTITY_KEY = "notifier.identity"


def basic_credentials(request: Request) -> tuple[str, str] | None:
    """The (user, password) of a well-formed Basic Authorization header."""
    return parse_basic(request.headers.get("Authorization", ""))


#: ``identify(request, user, password)``: the userid of these credentials, or None.
Identify = Callable[[Request, str, str], "str | None"]


class BasicAuthSecurityPolicy:
    """Pyramid security policy: identity from Basic auth, checks done by the views.

    ``policies`` are tried in order, the first userid wins (Kinto's multiauth);
    ``notifier.http.auth_policies`` sets them once the plugins are included.
    """

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.available: dict[str, Identify] = {"basicauth": self.basicauth}
        self.policies: list[Identify] = [self.basicauth]

    def basicauth(self, request: Request, user: str, password: str) -> str:
        return basic_userid(self.secret, user, password)

    def identity(self, request: Request) -> str | None:
        """The userid of the request's credentials, computed once per request.

        Pyramid asks again on every ``request.authenticated_userid``: a create
        asked three times, each a base64 decode and an HMAC.  The cache is
        keyed by the header, so a subrequest with other credentials is not
        fooled.
        """
        header = request.environ.get("HTTP_AUTHORIZATION")
        cached = request.environ.get(IDENTITY_KEY)
        if cached is not None and cached[0] == header:
            return cached[1]
        credentials = basic_credentials(request)
        userid = None
        if credentials is not None:
            for identify in self.policies:
                userid = identify(request, *credentials)
                if userid is not None:
                    break
        request.environ[IDENTITY_KEY] = (header, userid)
        return userid

    def authenticated_userid(self, request: Request) -> str | None:
        return self.identity(request)

    def permits(self, request: Request, context: Any, permission: str) -> bool:
        return True

    def remember(self, request: Request, userid: str, **kw: Any) -> list[tuple[str, str]]:
        return []

    def forget(self, request: Request, **kw: Any) -> list[tuple[str, str]]:
        return [("WWW-Authenticate", 'Basic realm="notifier"')]


def prefixed_userid(request: Request) -> str | None:
    """Kinto's name for the userid with its policy's prefix (``basicauth:...``,
    ``account:...``): notifier's userids always carry it."""
    userid: str | None = request.authenticated_userid
    return userid


def principals(request: Request) -> list[str]:
    """Who the request acts as: everyone, and if authenticated, the user too,
    and the groups that list the user (or ``system.Authenticated``) as a member."""
    return principals_with_groups(current(request).session, request.authenticated_userid)


def includeme(config: Configurator) -> None:
    key = "notifier.userid_hmac_secret"
    secret = str(config.get_settings()[key])
    if not secret:
        raise SettingsError(key, "is required: a long random string that keys the userids")
    policy = BasicAuthSecurityPolicy(secret)
    config.set_security_policy(policy)
    add_policy_directives(config, policy)
