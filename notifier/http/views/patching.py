"""PATCH bodies: a shallow merge (application/json), RFC 7396 merge patch, RFC 6902 JSON Patch."""

from __future__ import annotations

import copy
from typing import Any

from pyramid.request import Request

from notifier.http.errors import invalid_parameter
from notifier.http.permissions import OBJECT_PERMISSIONS
from notifier.http.views.requests import json_body, read_body, read_permissions
from notifier.storage import Permissions

MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"


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


def apply_patch(
    request: Request, resource_name: str, old: dict[str, Any], permissions: Permissions
) -> tuple[dict[str, Any], Permissions | None]:
    """The new data and permissions (None: unchanged) a PATCH asks for."""
    data = {k: v for k, v in old.items() if k not in ("id", "last_modified")}
    if request.content_type == JSON_PATCH:
        return _json_patch(request, resource_name, data, permissions)
    body = read_body(request, resource_name)
    if request.content_type == MERGE_PATCH:
        data = merge_patch(data, body.data)
    else:
        data.update(body.data)
    new_permissions = None
    if body.permissions is not None:
        new_permissions = {name: set(who) for name, who in permissions.items()}
        new_permissions.update(body.permissions)
    return data, new_permissions


def _json_patch(
    request: Request, resource_name: str, data: dict[str, Any], permissions: Permissions
) -> tuple[dict[str, Any], Permissions]:
    operations = json_body(request)
    if not isinstance(operations, list):
        raise invalid_parameter("body", "body", "a JSON Patch body is a list of operations")
    # Principals are keys, so "add /permissions/read/alice" grants and "remove" revokes;
    # every permission is there, empty if need be, so that "add" has a parent (as in Kinto).
    granted_before: dict[str, dict[str, bool]] = {
        name: {} for name in OBJECT_PERMISSIONS[resource_name]
    }
    granted_before.update({name: dict.fromkeys(who, True) for name, who in permissions.items()})
    document: dict[str, Any] = {"data": data, "permissions": granted_before}
    for index, operation in enumerate(operations):
        _apply_operation(document, operation, f"body[{index}]")
    if not isinstance(document.get("data"), dict):
        raise invalid_parameter("body", "data", "the patched data must stay a JSON object")
    granted = document.get("permissions")
    if not isinstance(granted, dict) or not all(isinstance(v, dict) for v in granted.values()):
        raise invalid_parameter(
            "body", "permissions", "patch principals as /permissions/<perm>/<principal>"
        )
    lists = {name: list(principals) for name, principals in granted.items() if principals}
    return document["data"], read_permissions(lists, resource_name)


def _pointer(path: Any, where: str) -> list[str]:
    if not isinstance(path, str) or not path.startswith("/"):
        raise invalid_parameter("body", where, "path must be a JSON pointer like /data/title")
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def _apply_operation(document: dict[str, Any], operation: Any, where: str) -> None:
    if not isinstance(operation, dict) or operation.get("op") not in (
        "add",
        "remove",
        "replace",
        "test",
        "move",
        "copy",
    ):
        raise invalid_parameter(
            "body", where, "each operation needs op: add, remove, replace, test, move or copy"
        )
    parts = _pointer(operation.get("path"), where)
    parent, key = _walk(document, parts, where)
    op = operation["op"]
    if op in ("move", "copy"):
        source_parent, source_key = _walk(document, _pointer(operation.get("from"), where), where)
        value = _get(source_parent, source_key, where)
        if op == "move":
            _remove(source_parent, source_key, where)
        _add(parent, key, copy.deepcopy(value))
    elif op == "test":
        if _get(parent, key, where) != operation.get("value"):
            raise invalid_parameter("body", where, f"test failed at {operation['path']}")
    elif op == "remove":
        _remove(parent, key, where)
    elif op == "replace":
        _get(parent, key, where)
        _set(parent, key, operation.get("value"))
    else:
        _add(parent, key, operation.get("value"))


def _walk(document: Any, parts: list[str], where: str) -> tuple[Any, str]:
    node = document
    for part in parts[:-1]:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise invalid_parameter("body", where, f"path does not exist at {part!r}")
    return node, parts[-1]


def _get(parent: Any, key: str, where: str) -> Any:
    if isinstance(parent, dict) and key in parent:
        return parent[key]
    if isinstance(parent, list) and key.isdigit() and int(key) < len(parent):
        return parent[int(key)]
    raise invalid_parameter("body", where, f"path does not exist at {key!r}")


def _set(parent: Any, key: str, value: Any) -> None:
    if isinstance(parent, list):
        parent[int(key)] = value
    else:
        parent[key] = value


def _add(parent: Any, key: str, value: Any) -> None:
    if isinstance(parent, list):
        if key == "-":
            parent.append(value)
        else:
            parent.insert(int(key), value)
    elif isinstance(parent, dict):
        parent[key] = value


def _remove(parent: Any, key: str, where: str) -> None:
    _get(parent, key, where)
    if isinstance(parent, list):
        del parent[int(key)]
    else:
        del parent[key]
