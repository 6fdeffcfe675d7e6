"""Operator commands for a webhook listener: send a signed ping, show and enable endpoints.

    python -m notifier.cli.webhook test app.ini --listener hook
    python -m notifier.cli.webhook status app.ini --listener hook
    python -m notifier.cli.webhook enable app.ini --listener hook [--url URL]

``test`` reads the INI as the application does (environment overrides
included), POSTs one signed sample event to each endpoint, disabled ones
too, and prints each answer: exit 0 when every endpoint answered 2xx, 1
otherwise, 2 when the settings are wrong.  ``enable`` undoes what a 410 Gone
did (every endpoint of the listener, or the one ``--url`` names); replay the
listener's dead letters afterwards to send what the endpoint missed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from notifier.listeners.webhook import WebhookListener, ping, webhook_from_ini
from notifier.settings import SettingsError

PROG = "python -m notifier.cli.webhook"

Print = Callable[[str], None]


def run_test(listener: WebhookListener, out: Print) -> int:
    """Ping each endpoint; 0 when all answered 2xx, else 1."""
    status = 0
    for endpoint, answer in ping(listener):
        if isinstance(answer, str):
            out(f"{endpoint.label}: failed: {answer}")
            status = 1
            continue
        out(f"{endpoint.label}: {answer.status} {answer.body[:200]!r}")
        if not answer.ok:
            status = 1
    return status


def run_status(listener: WebhookListener, out: Print) -> int:
    """Print each endpoint and whether it is disabled; 0."""
    for endpoint in listener.settings.endpoints:
        reason = listener.states.is_disabled(endpoint)
        out(f"{endpoint.label}: {'disabled, ' + reason if reason else 'enabled'}")
    return 0


def run_enable(listener: WebhookListener, url: str | None, out: Print) -> int:
    """Enable the listener's endpoints (or the one ``url`` names); 2 for an unknown URL."""
    endpoints = list(listener.settings.endpoints)
    if url is not None:
        endpoints = [endpoint for endpoint in endpoints if endpoint.url == url]
        if not endpoints:
            out(f"error: {url!r} is not a URL of listener {listener.name}")
            return 2
    enabled = listener.states.enable(endpoints)
    for endpoint in enabled:
        out(f"{endpoint.label}: enabled")
    if not enabled:
        out("nothing to enable: no endpoint was disabled")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; return the exit status."""
    args = _parser().parse_args(argv)
    try:
        listener = webhook_from_ini(args.ini, args.listener)
    except (SettingsError, OSError, LookupError) as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    try:
        if args.command == "test":
            return run_test(listener, print)
        if args.command == "status":
            return run_status(listener, print)
        return run_enable(listener, args.url, print)
    finally:
        listener.close()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n", 1)[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("test", "POST a signed sample event to each endpoint and print the answers"),
        ("status", "show which endpoints a 410 Gone disabled"),
        ("enable", "enable disabled endpoints again"),
    ):
        command = commands.add_parser(name, help=text, description=text)
        command.add_argument("ini", help="the application's INI file, e.g. app.ini")
        command.add_argument("--listener", required=True, help="the webhook listener's name")
        if name == "enable":
            command.add_argument("--url", help="only this endpoint (as written in the INI)")
    return parser


if __name__ == "__main__":
    sys.exit(main())
