"""Settings, apps and checks shared by the webhook tests."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from pyramid.config import Configurator
from standardwebhooks import Webhook
from webtest import TestApp

from notifier.listeners.webhook import WebhookListener
from notifier.storage import OutboxEntry, transaction
from tests.eventing import make_app
from tests.helpers import load_as_the_ini_does
from tests.webhook_receiver import Received

PREFIX = "notifier.event_listeners.hook."
SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()
OTHER_SECRET = "whsec_" + base64.b64encode(b"o" * 24).decode()
FAST_RETRIES = {
    "notifier.outbox.backoff_base": "0.001",
    "notifier.outbox.backoff_max": "0.001",
    "notifier.outbox.lease": "30",  # longer than a delivery may take (timeout)
}


def hook_settings(url: str, /, **extra: str) -> dict[str, str]:
    """An INI's settings for a ``hook`` webhook listener; ``extra`` keys are relative."""
    settings = {
        "notifier.event_listeners": "hook",
        PREFIX + "use": "notifier.listeners.webhook",
        PREFIX + "url": url,
        PREFIX + "secret": SECRET,
        PREFIX + "allow_private_addresses": "true",
    }
    settings.update({PREFIX + key: value for key, value in extra.items()})
    return settings


def build(settings: dict[str, Any]) -> WebhookListener:
    config = Configurator(settings=settings)
    return load_as_the_ini_does(config, PREFIX, "notifier.listeners.webhook")


def hook_app(
    tmp_path: Path, url: str, app_settings: dict[str, str] | None = None, **extra: str
) -> TestApp:
    """The app with one ``hook`` listener and retries due at once."""
    return make_app(tmp_path, **hook_settings(url, **extra), **FAST_RETRIES, **(app_settings or {}))


def verified(request: Received, secret: str = SECRET) -> dict[str, Any]:
    """The payload, once the reference library checked the request's signature."""
    payload: dict[str, Any] = Webhook(secret).verify(request.body, request.header_dict())
    return payload


def dead_letters(app: TestApp) -> list[OutboxEntry]:
    with transaction(app.app.registry.notifier.storage, write=False) as session:
        return session.outbox_dead(100)


def backlog(app: TestApp) -> int:
    """Entries waiting for delivery."""
    with transaction(app.app.registry.notifier.storage, write=False) as session:
        return session.outbox_stats().backlog


def relay_round(app: TestApp) -> int:
    """One relay round, as the relay thread runs it."""
    return int(app.app.registry.notifier.relay.run_once())
