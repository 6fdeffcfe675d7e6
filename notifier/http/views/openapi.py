"""The OpenAPI 3 document of ``/v1/__api__``, built from the resource specs.

It names every path, parameter, request body and response the server can
give, so a client generator, or a fuzzer (tests/test_openapi_fuzz.py), can
rely on it.  The reusable parts are in ``openapi_schemas``.
"""

from __future__ import annotations

from typing import Any

from pyramid.request import Request

import notifier
from notifier.http.views.openapi_schemas import (
    ID_PATTERN,
    PARAMETERS,
    RESPONSES,
    SCHEMAS,
    error_responses,
    ref,
)
from notifier.http.views.specs import SPECS, ResourceSpec

LIST_QUERY = ["_limit", "_token", "_since", "_before", "_sort", "_fields", "filters"]
JSON = "application/json"


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def _path_parameters(path: str) -> list[dict[str, Any]]:
    names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
    schema = {"type": "string", "pattern": ID_PATTERN}
    return [{"name": n, "in": "path", "required": True, "schema": schema} for n in names]


def _parameters(*names: str) -> list[dict[str, str]]:
    return [ref("parameters", name) for name in names]


def _body(spec: ResourceSpec, required: bool = False) -> dict[str, Any]:
    schema = ref("schemas", f"{spec.name.capitalize()}Body")
    return {"required": required, "content": {JSON: {"schema": schema}}}


def _one(spec: ResourceSpec, description: str) -> dict[str, Any]:
    return _json(ref("schemas", f"{spec.name.capitalize()}Response"), description)


def _plural_operations(spec: ResourceSpec) -> dict[str, Any]:
    listing = _json(ref("schemas", "List"), f"The {spec.plural} the user may read")
    errors = error_responses(400, 401, 403, 404, 406, 412, 415, 503)
    return {
        "parameters": _path_parameters(spec.plural_path),
        "get": {
            "summary": f"List {spec.plural}",
            "parameters": _parameters(*LIST_QUERY, "If-Match", "If-None-Match"),
            "responses": {"200": listing, "304": ref("responses", "NotModified"), **errors},
        },
        "post": {
            "summary": f"Create a {spec.name} (an id in data picks it)",
            "parameters": _parameters("If-Match", "If-None-Match"),
            "requestBody": _body(spec),
            "responses": {
                "201": _one(spec, "Created"),
                "200": _one(spec, "The object with that id existed already"),
                **error_responses(400, 401, 403, 404, 406, 412, 413, 415, 503),
            },
        },
        "delete": {
            "summary": f"Delete the {spec.plural} the user may write (filters apply)",
            "parameters": _parameters("_sort", "filters", "If-Match", "If-None-Match"),
            "responses": {"200": _json(ref("schemas", "List"), "Tombstones"), **errors},
        },
    }


def _object_operations(spec: ResourceSpec) -> dict[str, Any]:
    errors = error_responses(400, 401, 403, 404, 406, 412, 413, 415, 503)
    patch_content = {
        JSON: {"schema": ref("schemas", f"{spec.name.capitalize()}Body")},
        "application/merge-patch+json": {"schema": ref("schemas", f"{spec.name.capitalize()}Body")},
        "application/json-patch+json": {"schema": ref("schemas", "JSONPatch")},
    }
    preconditions = _parameters("If-Match", "If-None-Match")
    return {
        "parameters": _path_parameters(spec.object_path),
        "get": {
            "summary": f"Get a {spec.name}",
            "parameters": preconditions,
            "responses": {
                "200": _one(spec, "The object"),
                "304": ref("responses", "NotModified"),
                **error_responses(400, 401, 403, 404, 406, 412, 503),
            },
        },
        "put": {
            "summary": f"Create or replace a {spec.name}",
            "parameters": preconditions,
            "requestBody": _body(spec),
            "responses": {"201": _one(spec, "Created"), "200": _one(spec, "Replaced"), **errors},
        },
        "patch": {
            "summary": f"Modify a {spec.name}: merge (JSON), merge patch or JSON Patch",
            "parameters": preconditions,
            "requestBody": {"required": False, "content": patch_content},
            "responses": {"200": _one(spec, "Modified"), **errors},
        },
        "delete": {
            "summary": f"Delete a {spec.name} and everything below it",
            "parameters": preconditions,
            "responses": {"200": _json(ref("schemas", "Deleted"), "Its tombstone"), **errors},
        },
    }


def _utility_paths() -> dict[str, Any]:
    anything = {"type": "object"}

    def simple(summary: str, *codes: int) -> dict[str, Any]:
        ok = _json(anything, "OK")
        return {"get": {"summary": summary, "responses": {"200": ok, **error_responses(*codes)}}}

    return {
        "/": simple("Server information", 406),
        "/batch": {
            "post": {
                "summary": "Several requests in one transaction",
                "requestBody": {
                    "required": True,
                    "content": {JSON: {"schema": ref("schemas", "Batch")}},
                },
                "responses": {
                    "200": _json(ref("schemas", "BatchResponses"), "Each subrequest's answer"),
                    **error_responses(400, 406, 413, 415, 503),
                },
            }
        },
        "/__heartbeat__": {
            "get": {
                "summary": "Health of each part",
                "responses": {
                    "200": _json(anything, "Every check passed"),
                    "503": _json(anything, "A check failed: each check's result"),
                },
            }
        },
        "/__lbheartbeat__": simple("Alive"),
        "/__version__": simple("Version"),
        "/__api__": simple("This document"),
        # Live push (docs/push.md): subscription tokens, and the console's outbox view.
        "/push/tokens": {
            "post": {
                "summary": "A short-lived push subscription token for the caller",
                "responses": {"201": _json(anything, "The token"), **error_responses(401)},
            }
        },
        "/__outbox__": simple("Each listener's backlog, and the dead letters", 401, 403),
        "/__outbox__/replay": {
            "post": {
                "summary": "Replay dead letters (of one listener, or all)",
                "responses": {"200": _json(anything, "How many"), **error_responses(400, 401, 403)},
            }
        },
    }


def openapi_document(request: Request) -> dict[str, Any]:
    """The document for this server: its URL, every path, Basic auth, Kinto's error shape."""
    paths = _utility_paths()
    for spec in SPECS:
        paths[spec.plural_path] = _plural_operations(spec)
        paths[spec.object_path] = _object_operations(spec)
    title = request.registry.settings["notifier.project_name"]
    return {
        "openapi": "3.0.3",
        "info": {"title": title, "version": notifier.__version__},
        "servers": [{"url": request.application_url + "/v1"}],
        "paths": paths,
        "components": {
            "securitySchemes": {"basicAuth": {"type": "http", "scheme": "basic"}},
            "schemas": SCHEMAS,
            "parameters": PARAMETERS,
            "responses": RESPONSES,
        },
        # Anonymous requests are allowed; what they may do depends on permissions.
        "security": [{}, {"basicAuth": []}],
    }
