"""The webhook listener: each event POSTed as JSON, signed as Standard Webhooks says.

```ini
notifier.event_listeners.hook.use = notifier.listeners.webhook
notifier.event_listeners.hook.url = https://example.com/hooks/notifier
notifier.event_listeners.hook.secret = whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
```

The body is the queue's message, exactly the bytes signed.  A 2xx answer is
a delivery; 410 Gone disables the endpoint (see ``webhook_state``) and
rejects the event, so the outbox dead-letters it; an endpoint that cannot be
reached or does not answer in time raises Unavailable; any other answer
raises WebhookError, and the outbox relay retries on its schedule.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, cast

from urllib3.exceptions import HTTPError

from notifier.delivery.events import ResourceChanged
from notifier.delivery.loader import LoadedListener, load_listener
from notifier.listeners import ListenerBase, Rejected, Unavailable, listener_name
from notifier.listeners.webhook_http import Answer, make_pool, post
from notifier.listeners.webhook_settings import Endpoint, WebhookSettings
from notifier.listeners.webhook_state import EndpointStates
from notifier.settings import Section, SettingsError, load_settings
from notifier.storage import Storage, load_storage

log = logging.getLogger(__name__)

#: The keys this listener reads under its prefix (the loader refuses any other).
SETTINGS_KEYS = WebhookSettings.KEYS
#: Keys the dispatcher reads under every listener's prefix.
#: Storage connections the endpoint state needs: it is read every few seconds.
STATE_POOL_SIZE = "2"


class WebhookError(Exception):
    """An endpoint answered something other than 2xx or 410, or broke the exchange."""


@dataclass
class Outcomes:
    """What the endpoints of one listener did with one event."""

    accepted: int = 0
    failed: list[str] = field(default_factory=list)
    unavailable: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)

    def settle(self, name: str, event_id: str) -> None:
        """Raise what the relay should hear; several endpoints: the most hopeful wins.

        A failure anywhere means a retry (endpoints that took the event get it
        again, with the same webhook-id); an event refused by every endpoint
        is a dead letter; one refused by some and taken by others is done.
        """
        if self.failed:
            raise WebhookError("; ".join(self.failed + self.unavailable + self.rejected))
        if self.unavailable:
            raise Unavailable("; ".join(self.unavailable + self.rejected))
        if self.rejected and not self.accepted:
            raise Rejected("; ".join(self.rejected))
        for reason in self.rejected:
            log.warning("webhook listener %s: event %s not sent to %s", name, event_id, reason)


class WebhookListener(ListenerBase):
    """POST each event to every enabled endpoint, in order."""

    def __init__(
        self,
        settings: WebhookSettings,
        states: EndpointStates,
        name: str = "webhook",
        prefix: str = "notifier.event_listeners.webhook.",
    ) -> None:
        self.settings = settings
        self.states = states
        self.name = name
        self.prefix = prefix
        self.pools = {
            e.url: make_pool(e, settings.timeout, settings.allow_private_addresses)
            for e in settings.endpoints
        }

    def __call__(self, event: ResourceChanged) -> None:
        outcomes = Outcomes()
        body = event.to_json().encode()
        for endpoint in self.settings.endpoints:
            reason = self.states.is_disabled(endpoint)
            if reason is not None:
                outcomes.rejected.append(f"{endpoint.label} is disabled: {reason}")
                continue
            self._send(endpoint, event.event_id, body, outcomes)
        outcomes.settle(self.name, event.event_id)
        log.debug("webhook listener %s: sent event %s", self.name, event.event_id)

    def _send(self, endpoint: Endpoint, event_id: str, body: bytes, outcomes: Outcomes) -> None:
        try:
            answer = self.post(endpoint, body, event_id)
        except Rejected as error:
            outcomes.rejected.append(str(error))
            return
        except Unavailable as error:
            outcomes.unavailable.append(str(error))
            return
        except HTTPError as error:
            outcomes.failed.append(f"{endpoint.label}: {type(error).__name__}: {error}")
            return
        if answer.ok:
            outcomes.accepted += 1
        elif answer.status == 410:
            outcomes.rejected.append(self._gone(endpoint, event_id, answer))
        else:
            outcomes.failed.append(f"{endpoint.label} answered {answer.status} {answer.body!r}")

    def post(self, endpoint: Endpoint, body: bytes, message_id: str) -> Answer:
        """Sign and POST ``body`` to ``endpoint``, whatever its state (the ping uses it)."""
        s = self.settings
        return post(self.pools[endpoint.url], endpoint, body, message_id, s.keys, s.headers)

    def _gone(self, endpoint: Endpoint, event_id: str, answer: Answer) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        reason = f"answered 410 Gone at {stamp} to event {event_id}"
        self.states.disable(endpoint, reason)
        log.error(
            "webhook listener %s: %s %s; disabled until an operator enables it"
            " (notifier webhook-enable INI --listener %s)",
            self.name,
            endpoint.label,
            reason,
            self.name,
        )
        return f"{endpoint.label} {reason}"

    def heartbeat(self) -> dict[str, Any]:
        """For ``/v1/__heartbeat__``: each endpoint and whether a 410 disabled it.

        A disabled endpoint is the receiver's decision, not this server's
        illness, so ``ok`` stays true.
        """
        endpoints = [
            {"url": e.label, "disabled": self.states.is_disabled(e)}
            for e in self.settings.endpoints
        ]
        return {"ok": True, "endpoints": endpoints}

    def timeouts(self) -> dict[str, float]:
        """What bounds a delivery: the timeout once per endpoint; the lease must outlast it."""
        return {self.prefix + "timeout": self.settings.timeout * len(self.settings.endpoints)}

    def close(self) -> None:
        for pool in self.pools.values():
            pool.close()
        self.states.close()

    def __repr__(self) -> str:
        labels = " ".join(endpoint.label for endpoint in self.settings.endpoints)
        return f"<WebhookListener {self.name} {labels}>"


def state_storage(settings: dict[str, Any]) -> Storage:
    """The deployment's storage, opened for the endpoint state with a small pool."""
    merged = load_settings(settings)
    return load_storage({**merged, "notifier.storage_pool_size": STATE_POOL_SIZE})


def load_from_config(config: Any, prefix: str) -> WebhookListener:
    """Build the listener from the settings under ``prefix``; raise SettingsError."""
    settings = config.get_settings()
    name = listener_name(prefix)
    webhook = WebhookSettings.from_section(Section(settings, prefix))
    frozen = dict(settings)
    states = EndpointStates(lambda: state_storage(frozen), name)
    labels = ", ".join(endpoint.label for endpoint in webhook.endpoints)
    log.info("webhook listener %s: POST to %s", name, labels)
    return WebhookListener(webhook, states, name=name, prefix=prefix)


def listener_from_ini(path: str, name: str) -> LoadedListener:
    """The webhook listener ``name`` of ``path``'s ``[app:main]``, for a worker or a command.

    It need not be named in ``notifier.event_listeners``.  A relative SQLite
    path is taken from the INI's folder, as the application takes it, so the
    endpoint state is the application's.
    """
    from pyramid.config import Configurator
    from pyramid.paster import get_appsettings

    path = os.path.abspath(path)
    settings = load_settings(get_appsettings(path, name="main"))
    url = str(settings["notifier.storage_url"])
    if settings["notifier.storage_backend"] == "notifier.storage.sqlite" and not os.path.isabs(url):
        settings["notifier.storage_url"] = os.path.join(os.path.dirname(path), url)
    loaded = load_listener(Configurator(settings=settings), settings, name)
    if not isinstance(loaded.listener, WebhookListener):
        key = f"notifier.event_listeners.{name}.use"
        problem = "expected a webhook listener (use = notifier.listeners.webhook)"
        raise SettingsError(key, problem, type(loaded.listener).__name__)
    return loaded


def webhook_from_ini(path: str, name: str) -> WebhookListener:
    """The webhook listener itself (see ``listener_from_ini``)."""
    return cast(WebhookListener, listener_from_ini(path, name).listener)


def sample_event() -> ResourceChanged:
    """A record creation as the application would emit it: what the ping sends."""
    now = int(time.time() * 1000)
    payload = {
        "action": "create",
        "uri": "/buckets/webhook-test/collections/test/records/test",
        "resource_name": "record",
        "user_id": "webhook-test",
        "timestamp": now,
        "event_id": uuid.uuid4().hex,
        "bucket_id": "webhook-test",
        "collection_id": "test",
        "record_id": "test",
    }
    record = {"id": "test", "last_modified": now, "title": "webhook-test"}
    return ResourceChanged(payload=payload, impacted_objects=[{"new": record}])


def ping(listener: WebhookListener) -> list[tuple[Endpoint, Answer | str]]:
    """POST one signed sample event to each endpoint, disabled ones too; each answer or error."""
    event = sample_event()
    body = event.to_json().encode()
    results: list[tuple[Endpoint, Answer | str]] = []
    for endpoint in listener.settings.endpoints:
        try:
            results.append((endpoint, listener.post(endpoint, body, event.event_id)))
        except (Rejected, Unavailable, HTTPError) as error:
            results.append((endpoint, f"{type(error).__name__}: {error}"))
    return results
