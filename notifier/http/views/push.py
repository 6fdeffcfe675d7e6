"""The API side of live push: subscription tokens, and the outbox for the console.

``POST /v1/push/tokens`` gives an authenticated user a short-lived token that
the push service accepts as ``?token=`` (browsers cannot send headers on
EventSource or WebSocket).  ``GET /v1/__outbox__`` and ``POST
/v1/__outbox__/replay`` show each listener's backlog and the dead letters,
and replay them, for the principals in ``notifier.outbox.admin_principals``.
The console page is served by the push service on another port, so these
endpoints answer CORS requests.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from cornice import Service
from pyramid.config import Configurator
from pyramid.request import Request

from notifier.delivery.events import ResourceChanged
from notifier.delivery.relay import now_ms
from notifier.http.errors import ERRORS, http_error
from notifier.push import tokens
from notifier.settings import Section

log = logging.getLogger(__name__)

CORS = {"cors_origins": ("*",), "cors_headers": ("Authorization", "Content-Type")}
DEAD_LIMIT = 100

push_tokens = Service(
    name="push-tokens", path="/push/tokens", description="Push subscription tokens", **CORS
)
outbox = Service(name="outbox", path="/__outbox__", description="Outbox backlog", **CORS)
outbox_replay = Service(
    name="outbox-replay", path="/__outbox__/replay", description="Replay dead letters", **CORS
)


def _authenticated(request: Request) -> str:
    userid = request.authenticated_userid
    if userid is None:
        raise http_error(
            401,
            ERRORS.MISSING_AUTH_TOKEN,
            "Send Basic credentials to get a push subscription token",
            headers={"WWW-Authenticate": 'Basic realm="notifier"'},
        )
    return str(userid)


@push_tokens.post()
def issue_token(request: Request) -> dict[str, Any]:
    """A token for the caller, valid ``notifier.push.token_ttl`` seconds (300)."""
    userid = _authenticated(request)
    settings = request.registry.settings
    ttl = Section(settings, "notifier.push.").float("token_ttl", 300.0, minimum=1.0)
    token, expires = tokens.issue(settings["notifier.userid_hmac_secret"], userid, ttl)
    request.response.status_code = 201
    return {"token": token, "expires": expires, "userid": userid}


def _admin(request: Request) -> None:
    """Only ``notifier.outbox.admin_principals`` see and replay the outbox: it holds
    every bucket's events."""
    admins = Section(request.registry.settings, "notifier.outbox.").list("admin_principals", "")
    if request.authenticated_userid is None:
        _authenticated(request)
    if not set(admins) & set(request.principals):
        raise http_error(
            403,
            ERRORS.FORBIDDEN,
            "Only the principals of notifier.outbox.admin_principals may see the outbox",
        )


def _queue_depth(listener: Any) -> int | None:
    """Messages in a Redis listener's list (queue) or stream, or None for other listeners."""
    client = getattr(listener, "client", None)
    listname, stream = getattr(listener, "listname", None), getattr(listener, "stream", None)
    try:
        if client is not None and isinstance(listname, str):
            return int(client.llen(listname))
        if client is not None and isinstance(stream, str):
            return int(client.xlen(stream))
    except Exception:
        log.warning("outbox view: %s does not answer", listener, exc_info=True)
    return None


def _session(request: Request) -> Any:
    """The request's transaction, as its permission checks see it."""
    return request.authorizer.session


def _listeners(registry: Any) -> list[Any]:
    """The dispatcher's listeners, from the typed app state where the registry has it."""
    state = getattr(registry, "notifier", None)
    dispatcher = state.dispatcher if state is not None else registry.notifier_dispatcher
    return list(dispatcher.listeners)


@outbox.get()
def get_outbox(request: Request) -> dict[str, Any]:
    _admin(request)
    session = _session(request)
    listeners = {}
    for loaded in _listeners(request.registry):
        listeners[loaded.name] = {
            "backlog": session.outbox_pending(loaded.name),
            "queue_depth": _queue_depth(loaded.listener),
        }
    dead = [
        {
            "event_id": entry.event_id,
            "listener": entry.listener,
            "attempts": entry.attempts,
            "last_error": entry.last_error,
            "created_at": entry.created_at,
            "message": ResourceChanged.from_outbox(entry.message)[0].message(),
        }
        for entry in session.outbox_dead(DEAD_LIMIT)
    ]
    return {"listeners": listeners, "dead": dead, "dead_total": session.outbox_stats().dead}


@outbox_replay.post()
def replay_dead(request: Request) -> dict[str, Any]:
    """Make dead letters (of ``{"listener": name}``, or all) pending again."""
    _admin(request)
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        raise http_error(400, ERRORS.BADJSON, 'The body must be JSON: {"listener": name}') from None
    listener = body.get("listener") if isinstance(body, dict) else None
    if listener is not None and not isinstance(listener, str):
        raise http_error(
            400, ERRORS.INVALID_PARAMETERS, f"listener must be a listener's name, got {listener!r}"
        )
    return {"replayed": _session(request).outbox_replay(listener, now_ms())}


def includeme(config: Configurator) -> None:
    for service in (push_tokens, outbox, outbox_replay):
        config.add_cornice_service(service)
