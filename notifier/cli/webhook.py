"""``notifier webhook-test``, ``webhook-status``, ``webhook-enable``: a webhook's endpoints.

    notifier webhook-test [INI] --listener hook
    notifier webhook-status [INI] --listener hook
    notifier webhook-enable [INI] --listener hook [--url URL]

``webhook-test`` reads the INI as the application does (environment
overrides included), POSTs one signed sample event to each endpoint,
disabled ones too, and prints each answer; it exits 0 when every endpoint
answered 2xx, and 1 otherwise or for a bad setting.  ``webhook-enable``
undoes what a 410 Gone did (every endpoint of the listener, or the one
``--url`` names); replay the listener's outbox dead letters afterwards to
send what the endpoint missed.  The logic is in plain functions
(``run_test``, ``run_status``, ``run_enable``) that print through ``out``.
"""

from __future__ import annotations

from collections.abc import Callable

import click

from notifier.cli.common import (
    CommandError,
    Failure,
    ini_argument,
    read_ini,
    reading,
    traceback_option,
)
from notifier.listeners.webhook import WebhookListener, ping, webhook_from_ini

Print = Callable[[str], None]


def run_test(listener: WebhookListener, out: Print) -> bool:
    """Ping each endpoint, printing each answer; True when all answered 2xx."""
    ok = True
    for endpoint, answer in ping(listener):
        if isinstance(answer, str):
            out(f"{endpoint.label}: failed: {answer}")
            ok = False
            continue
        out(f"{endpoint.label}: {answer.status} {answer.body[:200]!r}")
        ok = ok and answer.ok
    return ok


def run_status(listener: WebhookListener, out: Print) -> None:
    """Print each endpoint and whether a 410 Gone disabled it."""
    for endpoint in listener.settings.endpoints:
        reason = listener.states.is_disabled(endpoint)
        out(f"{endpoint.label}: {'disabled, ' + reason if reason else 'enabled'}")


def run_enable(listener: WebhookListener, url: str | None, out: Print) -> None:
    """Enable the listener's endpoints, or the one ``url`` names (CommandError if none does)."""
    endpoints = list(listener.settings.endpoints)
    if url is not None:
        endpoints = [endpoint for endpoint in endpoints if endpoint.url == url]
        if not endpoints:
            raise CommandError("--url", f"not a URL of listener {listener.name}", url)
    enabled = listener.states.enable(endpoints)
    for endpoint in enabled:
        out(f"{endpoint.label}: enabled")
    if not enabled:
        out("nothing to enable: no endpoint was disabled")


def open_listener(ini: str, name: str) -> WebhookListener:
    """The webhook listener ``name`` of the INI; one-line errors for a bad INI or listener."""
    path = read_ini(ini)
    with reading(ini):
        return webhook_from_ini(path, name)


def listener_option(function: Callable[..., None]) -> Callable[..., None]:
    return click.option("--listener", required=True, help="The webhook listener's name.")(function)


@click.command("webhook-test")
@ini_argument
@listener_option
@traceback_option
def test_command(ini: str, listener: str) -> None:
    """POST a signed sample event to each endpoint of a webhook listener; print the answers."""
    hook = open_listener(ini, listener)
    try:
        ok = run_test(hook, click.echo)
    finally:
        hook.close()
    if not ok:
        raise Failure(f"webhook-test: not every endpoint of listener {listener} answered 2xx")


@click.command("webhook-status")
@ini_argument
@listener_option
@traceback_option
def status_command(ini: str, listener: str) -> None:
    """Show which endpoints of a webhook listener a 410 Gone disabled."""
    hook = open_listener(ini, listener)
    try:
        run_status(hook, click.echo)
    finally:
        hook.close()


@click.command("webhook-enable")
@ini_argument
@listener_option
@click.option("--url", help="Only this endpoint (as written in the INI).")
@traceback_option
def enable_command(ini: str, listener: str, url: str | None) -> None:
    """Enable the endpoints of a webhook listener that a 410 Gone disabled."""
    hook = open_listener(ini, listener)
    try:
        run_enable(hook, url, click.echo)
    finally:
        hook.close()
