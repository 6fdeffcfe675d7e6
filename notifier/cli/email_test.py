"""``notifier-email-test``: send one test email with an INI's listener settings.

    notifier-email-test app.ini --listener send_email [--to ops@example.com]

An operator runs it before going live: it reads the INI as the application
does (environment overrides included), builds the named email listener, and
sends a sample "create" event through its templates and SMTP settings.  It
exits 0 when the server accepted the message, 1 when sending failed and 2
when the settings are wrong; the password never appears in its output.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from collections.abc import Sequence

from notifier.delivery.events import ResourceChanged
from notifier.delivery.loader import listener_from_ini
from notifier.listeners.email import EmailDeliveryError, EmailListener
from notifier.listeners.email_settings import check_address
from notifier.settings import SettingsError

PROG = "notifier-email-test"
SUBJECT_PREFIX = "[notifier-email-test] "


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; return the exit status."""
    args = _parser().parse_args(argv)
    try:
        listener = _email_listener(args.ini, args.listener)
        recipients = [check_address("--to", address) for address in args.to or []]
    except (SettingsError, OSError, LookupError) as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    message = listener.message(sample_event(), recipients or None)
    message.subject = SUBJECT_PREFIX + message.subject
    try:
        listener.send(message)
    except EmailDeliveryError as error:
        print(f"{PROG}: failed: {error}", file=sys.stderr)
        return 1
    s = listener.settings
    print(
        f"{PROG}: sent {message.subject!r} from {s.sender} to {', '.join(message.recipients)}"
        f" through {s.host}:{s.port} (listener {args.listener})"
    )
    return 0


def sample_event() -> ResourceChanged:
    """A record creation, as the application would emit it, to fill the templates."""
    now = int(time.time() * 1000)
    uri = "/buckets/notifier-email-test/collections/test/records/test"
    payload = {
        "action": "create",
        "uri": uri,
        "resource_name": "record",
        "user_id": "notifier-email-test",
        "timestamp": now,
        "event_id": str(uuid.uuid4()),
        "bucket_id": "notifier-email-test",
        "collection_id": "test",
        "record_id": "test",
        "id": "test",
    }
    record = {"id": "test", "last_modified": now, "title": "notifier-email-test"}
    return ResourceChanged(payload=payload, impacted_objects=[{"new": record}])


def _email_listener(path: str, name: str) -> EmailListener:
    listener = listener_from_ini(path, name).listener
    if not isinstance(listener, EmailListener):
        key = f"notifier.event_listeners.{name}.use"
        problem = "this command needs an email listener (use = notifier.listeners.email)"
        raise SettingsError(key, problem, type(listener).__name__)
    return listener


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Send one test email with an INI's email listener settings."
    )
    parser.add_argument("ini", help="the application's INI file, e.g. app.ini")
    parser.add_argument("--listener", required=True, help="the email listener's name")
    parser.add_argument(
        "--to", action="append", metavar="ADDRESS", help="send here instead (repeatable)"
    )
    return parser


if __name__ == "__main__":
    sys.exit(main())
