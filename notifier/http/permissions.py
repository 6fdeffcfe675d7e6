"""The API's permission checks: the shared rules of ``notifier.permissions``,
plus what each kind of object accepts in a request body.

Buckets are created by ``notifier.bucket_create_principals``.
"""

from __future__ import annotations

from notifier.permissions import Authorizer, ancestors

__all__ = ["OBJECT_PERMISSIONS", "Authorizer", "ancestors"]

#: The permissions each kind of object accepts in a request body.
OBJECT_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "bucket": ("read", "write", "collection:create", "group:create"),
    "collection": ("read", "write", "record:create"),
    "group": ("read", "write"),
    "record": ("read", "write"),
}
