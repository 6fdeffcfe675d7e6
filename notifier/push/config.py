"""The push service's settings, read from the INI's ``[app:main]``.

``notifier.push.url``, ``.stream`` and ``.retention`` default to the stream
listener's ``url``, ``stream`` and ``maxlen``, so an INI that enables the
listener needs nothing more.  Errors name the key, the value and what is
accepted, like every setting.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from notifier.queue import defaults
from notifier.queue.connection import check_url
from notifier.settings import Section, SettingsError, as_list, check_known_keys, read_ini

PREFIX = "notifier.push."
STREAM_LISTENER = "notifier.listeners.stream"
POLICIES = "notifier.auth_policies"
ACCOUNTS = "notifier.plugins.accounts"
KEYS = (
    "host",
    "port",
    "url",
    "stream",
    "retention",
    "recheck_seconds",
    "keepalive_seconds",
    "queue_size",
    "token_ttl",
    "api_url",
)


@dataclass(frozen=True)
class PushConfig:
    """What the push service needs, typed and checked."""

    host: str
    port: int
    url: str
    stream: str
    retention: int
    recheck_seconds: float
    keepalive_seconds: float
    queue_size: int
    token_ttl: float
    api_url: str
    secret: str
    #: ``notifier.auth_policies``, checked as the API checks it.
    auth_policies: tuple[str, ...]
    settings: Mapping[str, Any]


def stream_listener_prefix(settings: Mapping[str, Any]) -> str | None:
    """The prefix of the first listener in ``notifier.event_listeners`` that is the stream one."""
    for name in as_list(settings.get("notifier.event_listeners", "")):
        prefix = f"notifier.event_listeners.{name}."
        if str(settings.get(prefix + "use", "")).strip() == STREAM_LISTENER:
            return prefix
    return None


def push_config(settings: Mapping[str, Any]) -> PushConfig:
    """Check and type the ``notifier.push.*`` settings.  Raises SettingsError."""
    check_known_keys(PREFIX, settings, KEYS)
    push = Section(settings, PREFIX)
    listener_prefix = stream_listener_prefix(settings)
    listener = Section(settings, listener_prefix or PREFIX)
    if listener_prefix is None and push.raw("url", None) is None:
        raise SettingsError(
            PREFIX + "url",
            f"is required when no listener of notifier.event_listeners uses {STREAM_LISTENER}",
        )
    url = push.str("url", listener.raw("url", None) if listener_prefix else None)
    secret = str(settings.get("notifier.userid_hmac_secret") or "")
    if not secret:
        raise SettingsError("notifier.userid_hmac_secret", "is required: it keys the userids")
    return PushConfig(
        host=push.str("host", "127.0.0.1"),
        port=push.int("port", 8889, minimum=0, maximum=65535),
        url=check_url(push.key("url"), url),
        stream=push.str("stream", listener.raw("stream", defaults.STREAM)),
        retention=push.int("retention", listener.raw("maxlen", defaults.STREAM_MAXLEN), minimum=1),
        recheck_seconds=push.float("recheck_seconds", 30.0, minimum=1.0),
        keepalive_seconds=push.float("keepalive_seconds", 15.0, minimum=0.1),
        queue_size=push.int("queue_size", 1000, minimum=1),
        token_ttl=push.float("token_ttl", 300.0, minimum=1.0),
        api_url=push.str("api_url", "http://127.0.0.1:8888/v1").rstrip("/"),
        secret=secret,
        auth_policies=auth_policies(settings),
        settings=settings,
    )


def auth_policies(settings: Mapping[str, Any]) -> tuple[str, ...]:
    """``notifier.auth_policies``, with the API's checks that need no plugin loaded."""
    raw = settings.get(POLICIES, "basicauth")
    names = tuple(as_list(raw))
    if not names:
        raise SettingsError(POLICIES, "expected at least one of basicauth, account", raw)
    if "account" in names and ACCOUNTS not in as_list(settings.get("notifier.includes", "")):
        raise SettingsError(POLICIES, f"'account' needs {ACCOUNTS} in notifier.includes", raw)
    return names


def settings_from_ini(path: str) -> dict[str, Any]:
    """The ``[app:main]`` settings of ``path`` as the app reads them: defaults, INI,
    environment, and a relative SQLite path taken from the INI's folder."""
    path = os.path.abspath(path)
    settings = read_ini(path)
    url = str(settings["notifier.storage_url"])
    if settings["notifier.storage_backend"] == "notifier.storage.sqlite" and not os.path.isabs(url):
        settings["notifier.storage_url"] = os.path.join(os.path.dirname(path), url)
    return settings
