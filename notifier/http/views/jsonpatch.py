"""RFC 6902 JSON Patch, applied in place to a document the caller owns (a deep copy).

The work of a patch is bounded: at most ``MAX_OPERATIONS`` operations, the
bytes that ``copy`` duplicates add up to at most the body limit (each copy
would otherwise double a value), and nothing is placed deeper than the depth
limit.  Every error is a 400 naming the operation and saying what to change.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

from notifier.http.errors import ERRORS, http_error, invalid_parameter
from notifier.http.jsonsafe import encoded_size, value_depth

MAX_OPERATIONS = 1000
OPS = ("add", "remove", "replace", "move", "copy", "test")
_INDEX = re.compile(r"^(0|[1-9][0-9]*)$")


@dataclass
class Limits:
    """What one patch may build: bytes (``copy`` included) and nesting depth."""

    max_bytes: int
    max_depth: int
    copied: int = 0


class PatchError(Exception):
    """One operation cannot apply; the message says why (RFC 6902 section 5)."""


def pointer(path: Any, member: str) -> list[str]:
    """RFC 6901: ``/a/b~1c`` -> ``["a", "b/c"]``; the root ``""`` is not patchable here."""
    if not isinstance(path, str) or not path.startswith("/"):
        raise PatchError(f"{member} must be a JSON pointer like /data/title, got {path!r}")
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def _index(container: list[Any], part: str, path: str, *, adding: bool = False) -> int:
    if adding and part == "-":
        return len(container)
    if not _INDEX.match(part):
        raise PatchError(f"{path}: {part!r} is not an array index (0, 1, ...; - to append)")
    index = int(part)
    if index > len(container) or (index == len(container) and not adding):
        raise PatchError(f"{path}: index {index} is past the end of the array ({len(container)})")
    return index


def _child(node: Any, part: str, path: str) -> Any:
    if isinstance(node, dict):
        if part not in node:
            raise PatchError(f"{path}: there is no value at this path")
        return node[part]
    if isinstance(node, list):
        return node[_index(node, part, path)]
    raise PatchError(f"{path}: there is no value at this path")


def _parent(document: Any, parts: list[str], path: str) -> Any:
    """The container that holds (or will hold) the value at ``parts``."""
    node = document
    for part in parts[:-1]:
        node = _child(node, part, path)
    if not isinstance(node, dict | list):
        kind = type(node).__name__.replace("NoneType", "null")
        raise PatchError(f"{path}: the parent is a {kind}, not an object or an array")
    return node


def _get(document: Any, parts: list[str], path: str) -> Any:
    return _child(_parent(document, parts, path), parts[-1], path)


def _add(document: Any, parts: list[str], path: str, value: Any) -> None:
    parent = _parent(document, parts, path)
    if isinstance(parent, list):
        parent.insert(_index(parent, parts[-1], path, adding=True), value)
    else:
        parent[parts[-1]] = value


def _remove(document: Any, parts: list[str], path: str) -> Any:
    parent = _parent(document, parts, path)
    value = _child(parent, parts[-1], path)
    if isinstance(parent, list):
        del parent[int(parts[-1])]
    else:
        del parent[parts[-1]]
    return value


def json_equal(a: Any, b: Any) -> bool:
    """JSON's equality (RFC 6902 4.6): ``1 == 1.0``, but ``true != 1`` and key order aside."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def _check_placement(parts: list[str], value: Any, path: str, limits: Limits) -> None:
    depth = len(parts) + value_depth(value)
    if depth > limits.max_depth:
        raise PatchError(
            f"{path}: the result would nest {depth} levels; the limit is {limits.max_depth}"
        )


def _copied(value: Any, limits: Limits) -> Any:
    limits.copied += encoded_size(value)
    if limits.copied > limits.max_bytes:
        raise http_error(
            413,
            ERRORS.REQUEST_TOO_LARGE,
            f"The JSON Patch copies over {limits.max_bytes} bytes;"
            " the limit is notifier.max_request_body_bytes",
        )
    return copy.deepcopy(value)


def _move_or_copy(document: Any, operation: dict[str, Any], limits: Limits) -> None:
    parts, source = pointer(operation["path"], "path"), pointer(operation.get("from"), "from")
    path, origin = operation["path"], operation["from"]
    if operation["op"] == "move" and len(source) < len(parts) and parts[: len(source)] == source:
        raise PatchError(f"cannot move {origin} into its own child {path}")
    found = _get(document, source, origin)
    _check_placement(parts, found, path, limits)
    if operation["op"] == "move":
        _remove(document, source, origin)
        _add(document, parts, path, found)
    else:
        _add(document, parts, path, _copied(found, limits))


def apply_operation(document: Any, operation: Any, limits: Limits) -> None:
    """Apply one RFC 6902 operation to ``document``, in place."""
    if not isinstance(operation, dict) or operation.get("op") not in OPS:
        raise PatchError(f"op must be one of {', '.join(OPS)}")
    op, path = operation["op"], str(operation.get("path"))
    parts = pointer(operation.get("path"), "path")
    # Kinto's permission patches (add /permissions/read/<principal>) name no value.
    if op in ("add", "replace", "test") and "value" not in operation and parts[0] != "permissions":
        raise PatchError(f"{op} needs a value")
    value = operation.get("value")
    if op == "test":
        if not json_equal(_get(document, parts, path), value):
            raise PatchError(f"test failed: the value at {path} differs from the one given")
    elif op == "remove":
        _remove(document, parts, path)
    elif op == "replace":
        parent = _parent(document, parts, path)
        _child(parent, parts[-1], path)
        _check_placement(parts, value, path, limits)
        parent[int(parts[-1]) if isinstance(parent, list) else parts[-1]] = value
    elif op == "add":
        _check_placement(parts, value, path, limits)
        _add(document, parts, path, value)
    else:
        _move_or_copy(document, operation, limits)


def apply(document: Any, operations: Any, limits: Limits) -> None:
    """Apply a JSON Patch body to ``document`` in place, or raise a 400/413 saying why."""
    if not isinstance(operations, list):
        raise invalid_parameter("body", "body", "a JSON Patch body is a list of operations")
    if len(operations) > MAX_OPERATIONS:
        raise invalid_parameter(
            "body",
            "body",
            f"a JSON Patch holds at most {MAX_OPERATIONS} operations, got {len(operations)}",
        )
    for index, operation in enumerate(operations):
        try:
            apply_operation(document, operation, limits)
        except PatchError as error:
            raise invalid_parameter("body", f"body[{index}]", str(error)) from None
