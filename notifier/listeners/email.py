"""The email listener: one message per event, sent with pyramid_mailer.

```ini
notifier.event_listeners.send_email.use = notifier.listeners.email
notifier.event_listeners.send_email.server = smtp.example.com:587
notifier.event_listeners.send_email.tls = true
notifier.event_listeners.send_email.from = Notifier <notifier@example.com>
notifier.event_listeners.send_email.recipients = ops@example.com
notifier.event_listeners.send_email.subject = {user_id} {action}d {object[title]}
```

Delivery happens after commit (in the request thread, from the outbox relay,
or in a worker), so the mailer sends at once, without a transaction manager.
A failure raises EmailDeliveryError, whose text never holds the password.
"""

from __future__ import annotations

import base64
import logging
import smtplib
from dataclasses import dataclass, field
from typing import Any

from pyramid_mailer.mailer import Mailer
from pyramid_mailer.message import Message

from notifier.delivery.events import ResourceChanged
from notifier.listeners import ListenerBase, listener_name
from notifier.listeners.email_settings import EmailSettings
from notifier.listeners.email_smtp import smtp_mailer
from notifier.settings import Section

log = logging.getLogger(__name__)

#: Keys the dispatcher reads under every listener's prefix.
#: Keys this listener reads (the loader adds the dispatcher's filter keys).
SETTINGS_KEYS = EmailSettings.KEYS


class EmailDeliveryError(Exception):
    """The SMTP server could not be reached or refused a message."""


@dataclass
class EmailListener(ListenerBase):
    """Send one email per event to the configured recipients."""

    settings: EmailSettings
    name: str = "email"
    mailer: Mailer = field(init=False, repr=False)

    def __post_init__(self) -> None:
        s = self.settings
        client = smtp_mailer(s.host, s.port, s.username, s.password, s.tls, s.ssl)
        self.mailer = Mailer(smtp_mailer=client)

    def __call__(self, event: ResourceChanged) -> None:
        self.send(self.message(event))
        log.debug("email listener %s: sent event %s", self.name, event.payload.get("event_id"))

    def message(self, event: ResourceChanged, recipients: list[str] | None = None) -> Message:
        """The message for ``event``; ``recipients`` replaces the configured ones."""
        subject, body = self.settings.templates.fill(event)
        return Message(
            subject=subject,
            sender=self.settings.sender,
            recipients=list(recipients or self.settings.recipients),
            body=body,
        )

    def send(self, message: Message) -> None:
        """Send ``message`` now; raise EmailDeliveryError with the password redacted."""
        try:
            self.mailer.send_immediately(message)
        except (smtplib.SMTPException, OSError, RuntimeError) as error:
            # ``from None``: the original error's text could carry the password
            # (a server echoing an AUTH line), and a traceback prints the chain.
            raise EmailDeliveryError(self._describe(error)) from None

    def _describe(self, error: BaseException) -> str:
        s = self.settings
        text = f"{type(error).__name__}: {error}"
        return (
            f"email listener {self.name}: sending through {s.host}:{s.port} failed: "
            f"{redact(text, s.username, s.password)}"
        )


def redact(text: str, username: str | None, password: str | None) -> str:
    """Remove the password, and the forms SMTP AUTH sends it in, from ``text``."""
    if not password:
        return text
    forms = {password, repr(password.encode())[2:-1]}
    for raw in (password, f"\0{username or ''}\0{password}"):
        forms.add(base64.b64encode(raw.encode()).decode())
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, "***")
    return text


def load_from_config(config: Any, prefix: str) -> EmailListener:
    """Build the listener from the settings under ``prefix``; raise SettingsError."""
    settings = config.get_settings()
    name = listener_name(prefix)
    return EmailListener(EmailSettings.from_section(Section(settings, prefix)), name=name)
