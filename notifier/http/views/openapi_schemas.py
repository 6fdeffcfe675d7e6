"""The reusable parts of ``/v1/__api__``: schemas, parameters and responses.

Written to match what the views accept and answer, so that a property-based
test can hold the server to the document (tests/test_openapi_fuzz.py).
"""

from __future__ import annotations

from typing import Any

from notifier.http.jsonsafe import INT_MAX
from notifier.http.permissions import OBJECT_PERMISSIONS
from notifier.http.views.querystring import MAX_LIMIT
from notifier.http.views.specs import SPECS

ID_PATTERN = "^[a-zA-Z0-9][a-zA-Z0-9_-]{0,254}$"
TIMESTAMP = {"type": "integer", "minimum": 0, "maximum": INT_MAX}
PRINCIPALS = {"type": "array", "items": {"type": "string"}}
ERROR_CODES = (400, 401, 403, 404, 406, 412, 413, 415, 503)


def ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def _permissions(resource: str) -> dict[str, Any]:
    names = OBJECT_PERMISSIONS.get(resource, ("read", "write"))
    return {
        "type": "object",
        "properties": {name: PRINCIPALS for name in names},
        "additionalProperties": False,
    }


def _object_schemas() -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    for spec in SPECS:
        title = spec.name.capitalize()
        schemas[f"{title}Permissions"] = _permissions(spec.name)
        schemas[f"{title}Body"] = {
            "type": "object",
            "properties": {
                "data": {"type": "object", "properties": {"id": {"type": "string"}}},
                "permissions": ref("schemas", f"{title}Permissions"),
            },
            "additionalProperties": False,
        }
        schemas[f"{title}Response"] = {
            "type": "object",
            "required": ["data"],
            "properties": {
                "data": ref("schemas", "Object"),
                "permissions": ref("schemas", f"{title}Permissions"),
            },
        }
    return schemas


JSON_PATCH_OPERATION = {
    "type": "object",
    "required": ["op", "path"],
    "properties": {
        "op": {"enum": ["add", "remove", "replace", "move", "copy", "test"]},
        "path": {"type": "string", "description": "a JSON pointer under /data or /permissions"},
        "from": {"type": "string"},
        "value": {},
    },
}

BATCH_REQUEST = {
    "type": "object",
    "required": ["path"],
    "properties": {
        "method": {"enum": ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]},
        "path": {"type": "string", "pattern": "^/"},
        "headers": {"type": "object", "additionalProperties": {"type": "string"}},
        "body": {},
    },
}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["code", "errno", "error", "message"],
        "properties": {
            "code": {"type": "integer"},
            "errno": {"type": "integer"},
            "error": {"type": "string"},
            "message": {"type": "string"},
            "info": {"type": "string"},
            "details": {},
        },
    },
    "Object": {
        "type": "object",
        "required": ["id", "last_modified"],
        "properties": {
            "id": {"type": "string"},
            "last_modified": TIMESTAMP,
            "deleted": {"type": "boolean"},
        },
    },
    "List": {
        "type": "object",
        "required": ["data"],
        "properties": {"data": {"type": "array", "items": ref("schemas", "Object")}},
    },
    "Deleted": {
        "type": "object",
        "required": ["data"],
        "properties": {"data": ref("schemas", "Object")},
    },
    "JSONPatch": {"type": "array", "items": JSON_PATCH_OPERATION},
    "Batch": {
        "type": "object",
        "required": ["requests"],
        "properties": {
            "defaults": {**BATCH_REQUEST, "required": []},
            "requests": {"type": "array", "minItems": 1, "items": BATCH_REQUEST},
        },
    },
    "BatchResponses": {
        "type": "object",
        "required": ["responses"],
        "properties": {
            "responses": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["status", "path", "body", "headers"],
                    "properties": {
                        "status": {"type": "integer"},
                        "path": {"type": "string"},
                        "body": {},
                        "headers": {"type": "object"},
                    },
                },
            }
        },
    },
    **_object_schemas(),
}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": schema, "description": description}


def _header(name: str, description: str) -> dict[str, Any]:
    pattern = '^(\\*|W?/?"[0-9]{1,19}")$'
    return {
        "name": name,
        "in": "header",
        "schema": {"type": "string", "pattern": pattern},
        "description": description,
    }


PARAMETERS: dict[str, Any] = {
    "_limit": _query(
        "_limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}, "page size"
    ),
    "_token": _query("_token", {"type": "string"}, "the next page, from a Next-Page URL"),
    "_since": _query("_since", TIMESTAMP, "changes (tombstones included) after this timestamp"),
    "_before": _query("_before", TIMESTAMP, "objects before this timestamp"),
    "_sort": _query(
        "_sort",
        {"type": "string", "pattern": "^-?[a-zA-Z0-9_.-]+(,-?[a-zA-Z0-9_.-]+){0,9}$"},
        "up to 10 fields, - for descending: _sort=-last_modified,title",
    ),
    "_fields": _query("_fields", {"type": "string"}, "fields to return: _fields=title,tags.pet"),
    "filters": {
        "name": "filters",
        "in": "query",
        "style": "form",
        "explode": True,
        "schema": {"type": "object", "additionalProperties": {"type": "string"}},
        "description": "field=value, or min_, max_, lt_, gt_, not_, in_, exclude_, like_, has_"
        " prefixed (Kinto's filters); dotted names for nested fields",
    },
    "If-Match": _header("If-Match", 'write or read only if the ETag is this ("123") or any (*)'),
    "If-None-Match": _header("If-None-Match", "304 on reads, 412 on writes when it matches"),
}


def error_responses(*codes: int) -> dict[str, Any]:
    return {str(code): ref("responses", "Error") for code in codes}


RESPONSES: dict[str, Any] = {
    "Error": {
        "description": "Kinto's error JSON; the message says what to change",
        "content": {"application/json": {"schema": ref("schemas", "Error")}},
    },
    "NotModified": {"description": "If-None-Match names the current version"},
}
