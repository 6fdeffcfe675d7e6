"""Groups (``/buckets/{bid}/groups/{gid}``): their ``members`` become principals.

A group is an object like any other (permissions, events, tombstones); what
is its own is the ``members`` list, checked here, and kept beside it as the
``member`` permission of ``<group uri>/members`` (``notifier.permissions``)
so that a member's requests act as the group too.
"""

from __future__ import annotations

from typing import Any

from notifier.http.errors import invalid_parameter
from notifier.permissions import MEMBER, members_uri
from notifier.storage import Session

EVERYONE = "system.Everyone"


def checked(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` with ``members`` (default ``[]``), or a 400 naming what is wrong."""
    members = obj.get("members", [])
    if not isinstance(members, list) or not all(isinstance(each, str) for each in members):
        raise invalid_parameter("body", "data.members", "must be a list of principals (strings)")
    for member in members:
        if member.startswith("/buckets/") or member == EVERYONE:
            # As in Kinto: no groups of groups, and no group of everyone.
            raise invalid_parameter("body", "data.members", f"{member!r} is not a valid user ID")
    return {**obj, "members": members}


def store_members(session: Session, group_uri: str, group: dict[str, Any]) -> None:
    """Make the group's members hold the group's principal."""
    session.set_permissions(members_uri(group_uri), {MEMBER: set(group["members"])})


def forget_group(session: Session, group_uri: str) -> None:
    """Remove a deleted group from every permission that named it (Kinto does too).

    Its memberships go with its own permissions (``delete_permissions``).
    """
    for uri, _ in session.granted([group_uri]).items():
        permissions = session.get_permissions(uri)
        kept = {name: who - {group_uri} for name, who in permissions.items()}
        session.set_permissions(uri, {name: who for name, who in kept.items() if who})
