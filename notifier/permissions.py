"""Who a caller is and what it may read: the rules both the API and push use.

Pure functions of credentials, settings and storage, so that the push
service (which never imports ``notifier.http``) answers exactly as the API
does.  ``read`` on an object is granted by ``read`` or ``write`` on it or on
any ancestor; ``write`` by ``write`` on it or an ancestor; creating a child
by ``write`` on the parent (or an ancestor) or the parent's
``<child>:create``.  Imports only ``notifier.storage``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import uuid
from collections.abc import Iterable, Sequence

from notifier.storage import Permissions, Session, Storage, transaction

EVERYONE = "system.Everyone"
AUTHENTICATED = "system.Authenticated"
MEMBER = "member"
MEMBERS_SUFFIX = "/members"


def hmac_digest(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def parse_basic(header: str) -> tuple[str, str] | None:
    """The (user, password) of a well-formed Basic ``Authorization`` header value."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, colon, password = decoded.partition(":")
    if not colon or not user:
        return None
    return user, password


def basic_userid(secret: str, user: str, password: str) -> str:
    """As in Kinto: the same pair always maps to the same account; no password is stored."""
    return "basicauth:" + hmac_digest(secret, f"{user}:{password}")


def principals_of(userid: str | None) -> list[str]:
    """Who a caller acts as: everyone, and if authenticated, the user too.

    The one place principals are computed; groups and accounts extend it.
    """
    if userid is None:
        return [EVERYONE]
    return [EVERYONE, AUTHENTICATED, userid]


def group_principals(session: Session, principals: Sequence[str]) -> list[str]:
    """The URIs of the groups that list one of ``principals`` among their members.

    A group's members are stored as the ``member`` permission of
    ``<group uri>/members``: deleting the group, or its bucket, removes them
    with its permissions.
    """
    found = session.granted(principals, (MEMBER,))
    return sorted(uri[: -len(MEMBERS_SUFFIX)] for uri in found if uri.endswith(MEMBERS_SUFFIX))


def members_uri(group_uri: str) -> str:
    return group_uri + MEMBERS_SUFFIX


def principals_with_groups(session: Session, userid: str | None) -> list[str]:
    """``principals_of(userid)`` and the groups that list the user, or
    ``system.Authenticated``, as a member (as Kinto's user principals)."""
    principals = principals_of(userid)
    if userid is None:
        return principals
    return [*principals, *group_principals(session, [AUTHENTICATED, userid])]


def default_bucket_id(secret: str, userid: str) -> str:
    """The real id of a user's ``default`` bucket: stable and private."""
    return str(uuid.UUID(hmac_digest(secret, userid)[:32]))


def ancestors(uri: str) -> list[str]:
    """``/buckets/b/collections/c`` -> itself then ``/buckets/b``: object URIs, nearest first."""
    parts = uri.strip("/").split("/")
    return ["/" + "/".join(parts[:end]) for end in range(len(parts), 0, -2)]


class Authorizer:
    """Answers permission questions for one transaction, caching each URI's lookup."""

    def __init__(
        self, session: Session, principals: Sequence[str], bucket_creators: Sequence[str] = ()
    ) -> None:
        self.session = session
        self.principals = set(principals)
        self.bucket_creators = set(bucket_creators)
        self._cache: dict[str, Permissions] = {}

    def permissions_of(self, uri: str) -> Permissions:
        if uri not in self._cache:
            self._cache[uri] = self.session.get_permissions(uri)
        return self._cache[uri]

    def remember(self, uri: str, permissions: Permissions) -> None:
        """Cache what the request just wrote for ``uri``, saving the read that would follow."""
        self.forget(uri)
        self._cache[uri] = {name: set(who) for name, who in permissions.items() if who}

    def forget(self, uri: str) -> None:
        for cached in [key for key in self._cache if key == uri or key.startswith(uri + "/")]:
            del self._cache[cached]

    def _granted(self, uri: str, permissions: Sequence[str]) -> bool:
        granted = self.permissions_of(uri)
        return any(self.principals & granted.get(name, set()) for name in permissions)

    def can_read(self, uri: str) -> bool:
        return any(self._granted(each, ("read", "write")) for each in ancestors(uri))

    def can_write(self, uri: str) -> bool:
        return any(self._granted(each, ("write",)) for each in ancestors(uri))

    def can_create(self, parent_uri: str, child_resource: str) -> bool:
        """May the request create a ``child_resource`` below ``parent_uri`` ('' is the root)?"""
        if not parent_uri:
            return bool(self.principals & self.bucket_creators)
        if self.can_write(parent_uri):
            return True
        return self._granted(parent_uri, (f"{child_resource}:create",))


#: (principals, object URI): a question ``readable`` answers.
ReadCheck = tuple[tuple[str, ...], str]


def readable(storage: Storage, checks: Iterable[ReadCheck]) -> dict[ReadCheck, bool]:
    """Which (principals, uri) pairs may read (the groups that list the principals
    count too): one read transaction for them all."""
    answers: dict[ReadCheck, bool] = {}
    with transaction(storage, write=False) as session:
        authorizers: dict[frozenset[str], Authorizer] = {}
        for principals, uri in checks:
            key = frozenset(principals)
            if key not in authorizers:
                groups = group_principals(session, [p for p in principals if p != EVERYONE])
                authorizers[key] = Authorizer(session, [*principals, *groups])
            answers[(principals, uri)] = authorizers[key].can_read(uri)
    return answers


def may_read(storage: Storage, principals: Sequence[str], uri: str) -> bool:
    """May ``principals`` (or the groups that list them) read the object at ``uri``?
    One short read transaction."""
    with transaction(storage, write=False) as session:
        groups = group_principals(session, [p for p in principals if p != EVERYONE])
        return Authorizer(session, [*principals, *groups]).can_read(uri)
