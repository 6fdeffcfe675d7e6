"""Settings and events for the email listener tests."""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator

from notifier.delivery.events import ResourceChanged
from notifier.listeners.email import EmailListener
from tests.helpers import load_as_the_ini_does

PREFIX = "notifier.event_listeners.send_email."
SENDER = "Notifier <notifier@example.com>"
RECIPIENTS = ["ops@example.com", "dev@example.com"]


def email_settings(server: str, /, **extra: str) -> dict[str, str]:
    """An INI's settings for a ``send_email`` listener; ``extra`` keys are relative."""
    settings = {
        "notifier.event_listeners": "send_email",
        PREFIX + "use": "notifier.listeners.email",
        PREFIX + "server": server,
        PREFIX + "from": SENDER,
        PREFIX + "recipients": ", ".join(RECIPIENTS),
    }
    settings.update({PREFIX + key: value for key, value in extra.items()})
    return settings


def build(settings: dict[str, str]) -> EmailListener:
    config = Configurator(settings=settings)
    return load_as_the_ini_does(config, PREFIX, "notifier.listeners.email")


def record_event(
    action: str,
    new: dict[str, Any] | None = None,
    old: dict[str, Any] | None = None,
    **payload: Any,
) -> ResourceChanged:
    """A record event as the application emits it."""
    record_id = (new or old or {}).get("id", "r1")
    values: dict[str, Any] = {
        "action": action,
        "uri": f"/buckets/blog/collections/posts/records/{record_id}",
        "resource_name": "record",
        "user_id": "basicauth:alice",
        "timestamp": 1700000000000,
        "event_id": f"evt-{action}-{record_id}",
        "bucket_id": "blog",
        "collection_id": "posts",
        "record_id": record_id,
        "id": record_id,
    }
    values.update(payload)
    impacted: dict[str, Any] = {"new": new or {"id": record_id}}
    if old is not None:
        impacted["old"] = old
    return ResourceChanged(payload=values, impacted_objects=[impacted])
