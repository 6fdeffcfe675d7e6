"""``notifier email-test``: send one test email with an INI's listener settings.

    notifier email-test app.ini --listener send_email [--to ops@example.com]

An operator runs it before going live: it reads the INI as the application
does (environment overrides included), builds the named email listener, and
sends a sample "create" event through its templates and SMTP settings.  It
exits 0 when the server accepted the message, and 1 with one line saying why
when the settings are wrong or sending failed; the password never appears.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence

import click

from notifier.cli.common import (
    CommandError,
    Failure,
    ini_argument,
    read_ini,
    reading,
    traceback_option,
)
from notifier.delivery.events import ResourceChanged
from notifier.delivery.loader import listener_from_ini
from notifier.listeners.email import EmailDeliveryError, EmailListener
from notifier.listeners.email_settings import check_address

SUBJECT_PREFIX = "[notifier email-test] "


def send_test(ini: str, listener_name: str, to: Sequence[str]) -> str:
    """Send the sample event's email through the listener; the line saying where it went.

    Raises SettingsError for a bad INI or address, EmailDeliveryError when sending fails.
    """
    listener = _email_listener(ini, listener_name)
    recipients = [check_address("--to", address) for address in to]
    message = listener.message(sample_event(), recipients or None)
    message.subject = SUBJECT_PREFIX + message.subject
    listener.send(message)
    s = listener.settings
    return (
        f"sent {message.subject!r} from {s.sender} to {', '.join(message.recipients)}"
        f" through {s.host}:{s.port} (listener {listener_name})"
    )


@click.command("email-test")
@ini_argument
@click.option("--listener", required=True, help="The email listener's name.")
@click.option("--to", multiple=True, metavar="ADDRESS", help="Send here instead (repeatable).")
@traceback_option
def command(ini: str, listener: str, to: tuple[str, ...]) -> None:
    """Send one test email with an INI's email listener settings."""
    try:
        line = send_test(ini, listener, to)
    except EmailDeliveryError as error:
        raise Failure(str(error)) from None
    click.echo(f"notifier email-test: {line}")


def sample_event() -> ResourceChanged:
    """A record creation, as the application would emit it, to fill the templates."""
    now = int(time.time() * 1000)
    uri = "/buckets/email-test/collections/test/records/test"
    payload = {
        "action": "create",
        "uri": uri,
        "resource_name": "record",
        "user_id": "email-test",
        "timestamp": now,
        "event_id": str(uuid.uuid4()),
        "bucket_id": "email-test",
        "collection_id": "test",
        "record_id": "test",
        "id": "test",
    }
    record = {"id": "test", "last_modified": now, "title": "email-test"}
    return ResourceChanged(payload=payload, impacted_objects=[{"new": record}])


def _email_listener(ini: str, name: str) -> EmailListener:
    path = read_ini(ini)
    with reading(ini):
        listener = listener_from_ini(path, name).listener
    if not isinstance(listener, EmailListener):
        key = f"notifier.event_listeners.{name}.use"
        problem = "this command needs an email listener (use = notifier.listeners.email)"
        shown = getattr(listener, "target", listener)  # the function inside an Adapted
        raise CommandError(key, problem, type(shown).__name__)
    return listener
