"""Server information and health: ``/v1/``, heartbeats, version, the OpenAPI document."""

from __future__ import annotations

import logging
import time
from contextvars import copy_context
from typing import Any

from cornice import Service
from pyramid.config import Configurator
from pyramid.request import Request

import notifier
from notifier.http.views.default_bucket import default_bucket_id
from notifier.http.views.openapi import openapi_document
from notifier.state import state_of

log = logging.getLogger(__name__)

root = Service(name="root", path="/", description="Server information")
heartbeat = Service(name="heartbeat", path="/__heartbeat__", description="Health of each part")
lbheartbeat = Service(name="lbheartbeat", path="/__lbheartbeat__", description="Load balancers")
version = Service(name="version", path="/__version__", description="Version")
api = Service(name="api", path="/__api__", description="OpenAPI document")


@root.get()
def get_root(request: Request) -> dict[str, Any]:
    settings = request.registry.settings
    info: dict[str, Any] = {
        "project_name": settings["notifier.project_name"],
        "project_version": notifier.__version__,
        "http_api_version": settings["notifier.http_api_version"],
        "project_docs": request.route_url("api"),
        "url": request.route_url("root"),
        "settings": {
            "batch_max_requests": settings["notifier.batch_max_requests"],
            "readonly": False,
        },
        "capabilities": dict(state_of(request.registry).capabilities),
    }
    userid = request.authenticated_userid
    if userid is not None:
        secret = settings["notifier.userid_hmac_secret"]
        info["user"] = {"id": userid, "bucket": default_bucket_id(secret, userid)}
    return info


@heartbeat.get()
def get_heartbeat(request: Request) -> dict[str, Any]:
    """Each registered check's result; 503 when any of them is falsy (docs/deployment.md).

    Checks that call over the network run in threads, all at once, and one
    that does not answer within ``notifier.heartbeat.timeout`` is reported as
    failed: a stalled Redis makes the heartbeat say so, not wait for it.
    """
    state = state_of(request.registry)
    threaded = {
        # In a copy of this context: a check's log lines carry the request's id.
        name: state.heartbeat_threads().submit(copy_context().run, each.check, request)
        for name, each in state.heartbeats.items()
        if each.threaded
    }
    deadline = time.monotonic() + state.heartbeat_timeout
    results: dict[str, Any] = {}
    for name, each in state.heartbeats.items():
        try:
            if name in threaded:
                result = threaded[name].result(max(0.0, deadline - time.monotonic()))
            else:
                result = each.check(request)
        except TimeoutError:
            log.warning("heartbeat check %s did not answer in time", name)
            result = {"ok": False, "reason": f"no answer within {state.heartbeat_timeout:g} s"}
        except Exception as error:
            log.exception("heartbeat check %s failed", name)
            result = {"ok": False, "reason": f"{type(error).__name__}: {error}"[:200]}
        if result is not None:
            results[name] = result
    if not all(_healthy(value) for value in results.values()):
        request.response.status = 503
    return results


def _healthy(value: Any) -> bool:
    if isinstance(value, dict):
        return bool(value.get("ok", True))
    return bool(value)


@lbheartbeat.get()
def get_lbheartbeat(request: Request) -> dict[str, Any]:
    return {}


@version.get()
def get_version(request: Request) -> dict[str, Any]:
    return {
        "name": request.registry.settings["notifier.project_name"],
        "version": notifier.__version__,
        "source": request.registry.settings.get("notifier.project_source", ""),
        "commit": request.registry.settings.get("notifier.project_commit", "unknown"),
    }


@api.get()
def get_api(request: Request) -> dict[str, Any]:
    return openapi_document(request)


def includeme(config: Configurator) -> None:
    config.add_heartbeat("storage", lambda request: state_of(request.registry).storage.healthy())
    for service in (root, heartbeat, lbheartbeat, version, api):
        config.add_cornice_service(service)
