"""Reading what a write request sends: its JSON body and its preconditions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pyramid.request import Request

from notifier.http import jsonsafe
from notifier.http.errors import ERRORS, http_error, invalid_parameter
from notifier.http.permissions import OBJECT_PERMISSIONS

BODY_KEYS = ("data", "permissions")


@dataclass
class Body:
    data: dict[str, Any] = field(default_factory=dict)
    permissions: dict[str, set[str]] | None = None
    has_data: bool = False


def json_body(request: Request) -> Any:
    """The parsed JSON body: a 400 quoting the parser (errno 106) or saying what is unsafe."""
    raw = request.body  # webob copies the body on each access: read it once
    if not raw:
        return None
    try:
        return jsonsafe.loads(raw, request.registry.settings["notifier.max_json_depth"])
    except jsonsafe.UnsafeJSON as error:
        raise invalid_parameter("body", "body", str(error)) from None
    except ValueError as error:
        raise http_error(
            400,
            ERRORS.BADJSON,
            f"The body is not valid JSON: {error}",
            details=[{"location": "body", "name": None, "description": str(error)}],
        ) from None


def read_permissions(value: Any, resource_name: str) -> dict[str, set[str]]:
    accepted = OBJECT_PERMISSIONS[resource_name]
    if not isinstance(value, dict):
        raise invalid_parameter("body", "permissions", "must be an object of principal lists")
    permissions: dict[str, set[str]] = {}
    for name, principals in value.items():
        if name not in accepted:
            raise invalid_parameter(
                "body",
                f"permissions.{name}",
                f"a {resource_name} accepts the permissions {', '.join(accepted)}",
            )
        if not isinstance(principals, list) or not all(isinstance(p, str) for p in principals):
            raise invalid_parameter("body", f"permissions.{name}", "must be a list of strings")
        permissions[name] = set(principals)
    return permissions


def read_body(request: Request, resource_name: str) -> Body:
    """``{"data": {...}, "permissions": {...}}``, both optional, nothing else."""
    raw = json_body(request)
    if raw is None:
        return Body()
    if not isinstance(raw, dict):
        raise invalid_parameter(
            "body", "body", 'must be a JSON object: {"data": {...}, "permissions": {...}}'
        )
    unknown = sorted(set(raw) - set(BODY_KEYS))
    if unknown:
        raise invalid_parameter(
            "body", unknown[0], 'unknown key; the body is {"data": {...}, "permissions": {...}}'
        )
    body = Body(has_data="data" in raw)
    if body.has_data:
        if not isinstance(raw["data"], dict):
            raise invalid_parameter("body", "data", "must be a JSON object")
        body.data = raw["data"]
    if raw.get("permissions") is not None:
        body.permissions = read_permissions(raw["permissions"], resource_name)
    return body


def _timestamp_header(request: Request, name: str) -> int | str | None:
    raw = request.headers.get(name)
    if raw is None:
        return None
    if raw.strip() == "*":
        return "*"
    text = raw.strip()
    if text.startswith("W/"):
        text = text[2:]
    try:
        return int(text.strip('"'))
    except ValueError:
        raise invalid_parameter(
            "headers", name, f'must be a quoted timestamp like "1600000000000" or *, got {raw!r}'
        ) from None


def precondition_failed(existing: dict[str, Any] | None) -> Exception:
    return http_error(
        412,
        ERRORS.MODIFIED_MEANWHILE,
        "The object changed since the version you sent in If-Match (or exists, for "
        "If-None-Match: *); fetch it again and retry",
        details={"existing": existing},
    )


def check_write_preconditions(
    request: Request, current_stamp: int | None, existing: dict[str, Any] | None
) -> None:
    """Apply If-Match / If-None-Match to a write; ``current_stamp`` is None when absent."""
    if_match = _timestamp_header(request, "If-Match")
    if_none_match = _timestamp_header(request, "If-None-Match")
    if if_none_match == "*" and current_stamp is not None:
        raise precondition_failed(existing)
    if isinstance(if_none_match, int) and if_none_match == current_stamp:
        raise precondition_failed(existing)
    if if_match == "*" and current_stamp is None:
        raise precondition_failed(existing)
    if isinstance(if_match, int) and if_match != current_stamp:
        raise precondition_failed(existing)


def not_modified(request: Request, current_stamp: int) -> bool:
    """True when a GET's If-None-Match already names the current version."""
    if_none_match = _timestamp_header(request, "If-None-Match")
    return if_none_match == "*" or if_none_match == current_stamp


def check_read_preconditions(request: Request, current_stamp: int) -> None:
    if_match = _timestamp_header(request, "If-Match")
    if isinstance(if_match, int) and if_match != current_stamp:
        raise precondition_failed(None)
