"""A plugin as docs/plugins.md writes one: settings, a route, a listener,
a heartbeat and a capability."""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator
from pyramid.request import Request


def greet(request: Request) -> dict[str, Any]:
    """``GET /v1/greeting``: the configured greeting, to whoever asks."""
    settings = request.registry.settings
    return {"greeting": settings["notifier.greeting.word"], "user": request.authenticated_userid}


def includeme(config: Configurator) -> None:
    section = config.add_settings_defaults(
        "notifier.greeting.", {"word": "hello", "loud": "false", "listen": "true"}
    )
    settings = config.get_settings()
    settings["notifier.greeting.loud"] = section.bool("loud")
    word = section.str("word")
    settings["notifier.greeting.word"] = (
        word.upper() if settings["notifier.greeting.loud"] else word
    )
    config.add_route("greeting", "/greeting")
    config.add_view(greet, route_name="greeting", renderer="json", request_method="GET")
    if section.bool("listen"):
        config.add_event_listener("greeting", "tests.listeners.recorder", only_collection="hello")
    config.add_heartbeat("greeting", lambda request: True)
    config.add_capability("greeting", "Says hello", url="https://example.com/greeting")
