"""Who may do what: per-object principals, inherited down the URI tree.

``read`` on an object is granted by ``read`` or ``write`` on it or on any
ancestor; ``write`` by ``write`` on it or an ancestor; creating a child by
``write`` on the parent (or an ancestor) or the parent's ``<child>:create``.
Buckets are created by ``notifier.bucket_create_principals``.
"""

from __future__ import annotations

from collections.abc import Sequence

from notifier.storage import Permissions, Session

#: The permissions each kind of object accepts in a request body.
OBJECT_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "bucket": ("read", "write", "collection:create", "group:create"),
    "collection": ("read", "write", "record:create"),
    "record": ("read", "write"),
}


def ancestors(uri: str) -> list[str]:
    """``/buckets/b/collections/c`` -> itself then ``/buckets/b``: object URIs, nearest first."""
    parts = uri.strip("/").split("/")
    return ["/" + "/".join(parts[:end]) for end in range(len(parts), 0, -2)]


class Authorizer:
    """Answers permission questions for one request, caching each URI's lookup."""

    def __init__(
        self, session: Session, principals: Sequence[str], bucket_creators: Sequence[str]
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
