"""PATCH bodies: a shallow merge (application/json), RFC 7396 merge patch, RFC 6902 JSON Patch.

Each works on a deep copy of the stored object, so a nested edit is a change
that gets stored and told to listeners, and the event's ``old`` is the
object as it was.  Every result obeys the body limit and the depth limit.
"""

from __future__ import annotations

import copy
from typing import Any

from pyramid.request import Request

from notifier.http.errors import ERRORS, http_error, invalid_parameter
from notifier.http.jsonsafe import encoded_size, value_depth
from notifier.http.permissions import OBJECT_PERMISSIONS
from notifier.http.validation import JSON_PATCH, MERGE_PATCH
from notifier.http.views import jsonpatch
from notifier.http.views.requests import json_body, read_body, read_permissions
from notifier.storage import Permissions


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396: objects merge recursively, ``null`` removes a key."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _limits(request: Request) -> jsonpatch.Limits:
    settings = request.registry.settings
    return jsonpatch.Limits(
        settings["notifier.max_request_body_bytes"], settings["notifier.max_json_depth"]
    )


def check_result(data: dict[str, Any], limits: jsonpatch.Limits) -> None:
    """The patched object must fit where a body would: size and depth, as ``{"data": ...}``."""
    depth = value_depth(data) + 1
    if depth > limits.max_depth:
        raise invalid_parameter(
            "body",
            "data",
            f"the patched data would nest {depth} levels; the limit is {limits.max_depth}",
        )
    size = encoded_size(data)
    if size > limits.max_bytes:
        raise http_error(
            413,
            ERRORS.REQUEST_TOO_LARGE,
            f"The patched data would be {size} bytes; the limit is {limits.max_bytes}"
            " (notifier.max_request_body_bytes)",
        )


def apply_patch(
    request: Request, resource_name: str, old: dict[str, Any], permissions: Permissions
) -> tuple[dict[str, Any], Permissions | None]:
    """The new data and permissions (None: unchanged) a PATCH asks for; ``old`` is untouched."""
    data = copy.deepcopy({k: v for k, v in old.items() if k not in ("id", "last_modified")})
    limits = _limits(request)
    if request.content_type == JSON_PATCH:
        data, new_permissions = _json_patch(request, resource_name, data, permissions, limits)
        check_result(data, limits)
        return data, new_permissions
    body = read_body(request, resource_name)
    if request.content_type == MERGE_PATCH:
        data = merge_patch(data, body.data)
    else:
        data.update(body.data)
    check_result(data, limits)
    patched_permissions = None
    if body.permissions is not None:
        patched_permissions = {name: set(who) for name, who in permissions.items()}
        patched_permissions.update(body.permissions)
    return data, patched_permissions


def _json_patch(
    request: Request,
    resource_name: str,
    data: dict[str, Any],
    permissions: Permissions,
    limits: jsonpatch.Limits,
) -> tuple[dict[str, Any], Permissions]:
    operations = json_body(request)
    # Principals are keys, so "add /permissions/read/alice" grants and "remove" revokes;
    # every permission is there, empty if need be, so that "add" has a parent (as in Kinto).
    granted_before: dict[str, dict[str, bool]] = {
        name: {} for name in OBJECT_PERMISSIONS[resource_name]
    }
    granted_before.update({name: dict.fromkeys(who, True) for name, who in permissions.items()})
    document: dict[str, Any] = {"data": data, "permissions": granted_before}
    jsonpatch.apply(document, operations, limits)
    if not isinstance(document.get("data"), dict):
        raise invalid_parameter("body", "data", "the patched data must stay a JSON object")
    granted = document.get("permissions")
    if not isinstance(granted, dict) or not all(isinstance(v, dict) for v in granted.values()):
        raise invalid_parameter(
            "body", "permissions", "patch principals as /permissions/<perm>/<principal>"
        )
    lists = {name: list(principals) for name, principals in granted.items() if principals}
    return document["data"], read_permissions(lists, resource_name)
