"""The OpenAPI 3 document of ``/v1/__api__``, built from the resource specs."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request

import notifier
from notifier.http.views.specs import SPECS, ResourceSpec

ERROR = {"$ref": "#/components/schemas/Error"}
LIST_PARAMETERS = ["_limit", "_token", "_since", "_before", "_sort", "_fields"]


def _responses(ok: str, *codes: int) -> dict[str, Any]:
    responses: dict[str, Any] = {"200": {"description": ok}}
    for code in codes:
        responses[str(code)] = {
            "description": "Error",
            "content": {"application/json": {"schema": ERROR}},
        }
    return responses


def _path_parameters(path: str) -> list[dict[str, Any]]:
    names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
    return [
        {"name": n, "in": "path", "required": True, "schema": {"type": "string"}} for n in names
    ]


BODY = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Body"}}}}
CREATED = {"201": {"description": "Created"}}


def _plural_operations(spec: ResourceSpec) -> dict[str, Any]:
    query = [{"name": n, "in": "query", "schema": {"type": "string"}} for n in LIST_PARAMETERS]
    return {
        "parameters": _path_parameters(spec.plural_path),
        "get": {
            "summary": f"List {spec.plural}",
            "parameters": query,
            "responses": _responses("The list", 400, 401, 403),
        },
        "post": {
            "summary": f"Create a {spec.name}",
            "requestBody": BODY,
            "responses": {**_responses("Existed already", 400, 401, 403, 412), **CREATED},
        },
        "delete": {
            "summary": f"Delete {spec.plural}",
            "responses": _responses("Tombstones", 401, 403, 412),
        },
    }


def _object_operations(spec: ResourceSpec) -> dict[str, Any]:
    return {
        "parameters": _path_parameters(spec.object_path),
        "get": {
            "summary": f"Get a {spec.name}",
            "responses": _responses("The object", 401, 403, 404),
        },
        "put": {
            "summary": f"Create or replace a {spec.name}",
            "requestBody": BODY,
            "responses": {**_responses("Replaced", 400, 401, 403, 412), **CREATED},
        },
        "patch": {
            "summary": f"Modify a {spec.name}",
            "requestBody": BODY,
            "responses": _responses("Modified", 400, 401, 403, 404, 412),
        },
        "delete": {
            "summary": f"Delete a {spec.name}",
            "responses": _responses("Tombstone", 401, 403, 404, 412),
        },
    }


def _operations(spec: ResourceSpec) -> dict[str, Any]:
    return {spec.plural_path: _plural_operations(spec), spec.object_path: _object_operations(spec)}


COMPONENTS = {
    "securitySchemes": {"basicAuth": {"type": "http", "scheme": "basic"}},
    "schemas": {
        "Body": {
            "type": "object",
            "properties": {"data": {"type": "object"}, "permissions": {"type": "object"}},
        },
        "Error": {
            "type": "object",
            "required": ["code", "errno", "error"],
            "properties": {
                "code": {"type": "integer"},
                "errno": {"type": "integer"},
                "error": {"type": "string"},
                "message": {"type": "string"},
                "details": {},
            },
        },
    },
}


def _utility_paths() -> dict[str, Any]:
    def simple(summary: str, *codes: int) -> dict[str, Any]:
        return {"get": {"summary": summary, "responses": _responses("OK", *codes)}}

    return {
        "/": simple("Server information"),
        "/batch": {
            "post": {
                "summary": "Several requests in one transaction",
                "responses": _responses("Each response", 400),
            }
        },
        "/__heartbeat__": simple("Health", 503),
        "/__lbheartbeat__": simple("Alive"),
        "/__version__": simple("Version"),
        "/__api__": simple("This document"),
        # Live push (docs/push.md): subscription tokens, and the console's outbox view.
        "/push/tokens": {
            "post": {
                "summary": "A short-lived push subscription token for the caller",
                "responses": {**CREATED, "401": _responses("", 401)["401"]},
            }
        },
        "/__outbox__": simple("Each listener's backlog, and the dead letters", 401, 403),
        "/__outbox__/replay": {
            "post": {
                "summary": "Replay dead letters (of one listener, or all)",
                "responses": _responses("How many", 400, 401, 403),
            }
        },
    }


def openapi_document(request: Request) -> dict[str, Any]:
    """The document for this server: its URL, every path, Basic auth, Kinto's error shape."""
    paths = _utility_paths()
    for spec in SPECS:
        paths.update(_operations(spec))
    title = request.registry.settings["notifier.project_name"]
    return {
        "openapi": "3.0.3",
        "info": {"title": title, "version": notifier.__version__},
        "servers": [{"url": request.application_url + "/v1"}],
        "paths": paths,
        "components": COMPONENTS,
        "security": [{"basicAuth": []}],
    }
