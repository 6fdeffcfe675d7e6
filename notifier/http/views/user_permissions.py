"""``GET /v1/permissions``: every object the user holds a permission on, in Kinto's shape.

Enabled by ``notifier.experimental_permissions_endpoint = true`` (Kinto's
setting).  Each entry names the object (``uri``, ``resource_name``, ``id``,
``bucket_id``, ...) and the permissions held on it directly or through a
group, with what they imply on the same object (``write`` implies ``read``;
on a bucket also ``collection:create`` and ``group:create``).  Querystring
filters: ``field=value``, ``in_field=a,b``, ``exclude_field=a,b``.
"""

from __future__ import annotations

from typing import Any

from cornice import Service
from pyramid.config import Configurator
from pyramid.request import Request

from notifier.delivery.changes import current
from notifier.permissions import MEMBER
from notifier.settings import Section

permissions = Service(name="permissions", path="/permissions", description="The user's permissions")

#: What ``write`` on an object implies on that same object.
IMPLIED_BY_WRITE = {
    "bucket": {"read", "collection:create", "group:create"},
    "collection": {"read", "record:create"},
    "group": {"read"},
    "record": {"read"},
}
KINDS = {"buckets": "bucket", "collections": "collection", "groups": "group", "records": "record"}


def describe(uri: str, granted: set[str]) -> dict[str, Any] | None:
    """The entry of one object URI, or None for what is not an object (memberships)."""
    parts = uri.strip("/").split("/")
    if len(parts) % 2 or MEMBER in granted or any(p not in KINDS for p in parts[::2]):
        return None
    ids = {f"{KINDS[kind]}_id": value for kind, value in zip(parts[::2], parts[1::2], strict=True)}
    resource_name = KINDS[parts[-2]]
    held = set(granted)
    if "write" in held:
        held |= IMPLIED_BY_WRITE[resource_name]
    return {
        "uri": uri,
        "resource_name": resource_name,
        "id": parts[-1],
        **ids,
        "permissions": sorted(held),
    }


def _matches(entry: dict[str, Any], query: dict[str, str]) -> bool:
    for key, value in query.items():
        if key.startswith("_"):
            continue
        if key.startswith("exclude_"):
            if str(entry.get(key[8:])) in value.split(","):
                return False
        elif key.startswith("in_"):
            if str(entry.get(key[3:])) not in value.split(","):
                return False
        elif str(entry.get(key)) != value:
            return False
    return True


@permissions.get()
def get_permissions(request: Request) -> dict[str, Any]:
    granted = current(request).session.granted(request.principals)
    entries = (describe(uri, held) for uri, held in sorted(granted.items()))
    query = dict(request.GET)
    return {"data": [each for each in entries if each is not None and _matches(each, query)]}


def includeme(config: Configurator) -> None:
    settings = config.get_settings()
    key = "experimental_permissions_endpoint"
    enabled = Section(settings, "notifier.").bool(key)
    settings["notifier." + key] = enabled
    if not enabled:
        return
    config.add_capability(
        "permissions_endpoint",
        "The permissions endpoint can be used to list all user objects permissions.",
        url="https://kinto.readthedocs.io/en/latest/configuration/settings.html#activating-the-permissions-endpoint",
    )
    config.add_cornice_service(permissions)
