"""``notifier outbox``: inspect the outbox, replay or purge dead letters, run a relay.

    notifier outbox [stats] [INI] [--watch]
    notifier outbox dead [INI] [--limit N]
    notifier outbox replay [INI] [--listener NAME]
    notifier outbox purge [INI] [--listener NAME] [--yes]
    notifier outbox relay [INI] [--once]

Each prints JSON (``stats``, ``dead``, ``replay``, ``purge``), so scripts can
read it; ``relay`` logs.
"""

from __future__ import annotations

import json
import logging
import re
import signal
import threading
from typing import Any

import click

from notifier.cli.common import (
    DefaultGroup,
    app_settings,
    confirm,
    ini_argument,
    read_ini,
    reading,
    traceback_option,
    yes_option,
)
from notifier.cli.watch import Sample, watch, watch_options
from notifier.delivery.events import ResourceChanged
from notifier.delivery.relay import Relay, now_ms
from notifier.listeners import webhook_state
from notifier.logs.setup import apply_log_format, log_format_of
from notifier.state import state_of
from notifier.storage import Storage, transaction

log = logging.getLogger(__name__)


def app_registry(ini: str) -> Any:
    """The registry of the INI's app, configured as ``pserve`` would, without serving.

    Shut down (storage, listeners) when the command ends, also when it is
    called in-process, as the tests do.
    """
    from notifier.app import configure_from_ini, shutdown

    path = read_ini(ini)
    with reading(ini):
        registry = configure_from_ini(path).registry
    context = click.get_current_context(silent=True)
    if context is not None:
        context.call_on_close(lambda: shutdown(registry))
    return registry


def storage_of(registry: Any) -> Storage:
    return state_of(registry).storage


def relay_of(registry: Any) -> tuple[Relay, float]:
    state = state_of(registry)
    return state.relay, state.relay_interval


def stats(storage: Storage) -> dict[str, Any]:
    """Backlog, the oldest entry's creation time and age, and dead letters."""
    with transaction(storage, write=False) as session:
        found = session.outbox_stats()
    oldest = found.oldest_created_at
    age = None if oldest is None else round(max(0, now_ms() - oldest) / 1000, 1)
    return {
        "backlog": found.backlog,
        "oldest_created_at": oldest,
        "oldest_age_s": age,
        "dead": found.dead,
    }


def disabled_endpoints(registry: Any) -> list[dict[str, Any]]:
    """The webhook endpoints a 410 Gone disabled, for every webhook listener of the INI.

    A worker-only listener counts too: its state lives in the same storage.
    """
    use = re.compile(r"notifier\.event_listeners\.([^.]+)\.use")
    names = sorted(
        match.group(1)
        for key, value in registry.settings.items()
        if (match := use.fullmatch(key)) and str(value).strip() == WEBHOOK_MODULE
    )
    found = []
    with transaction(storage_of(registry), write=False) as session:
        for name in names:
            for endpoint in session.list(webhook_state.RESOURCE, webhook_state.parent_of(name)):
                found.append({"listener": name, "url": endpoint.get("url"), **_why(endpoint)})
    return found


#: The ``use =`` of a webhook listener.
WEBHOOK_MODULE = "notifier.listeners.webhook"


def _why(endpoint: dict[str, Any]) -> dict[str, Any]:
    return {"reason": endpoint.get("reason"), "disabled_at": endpoint.get("disabled_at")}


def dead_letters(storage: Storage, limit: int) -> list[dict[str, Any]]:
    with transaction(storage, write=False) as session:
        entries = session.outbox_dead(limit)
    return [
        {
            "event_id": e.event_id,
            "listener": e.listener,
            "attempts": e.attempts,
            "last_error": e.last_error,
            "created_at": e.created_at,
            "message": ResourceChanged.from_outbox(e.message)[0].message(),
        }
        for e in entries
    ]


def replay(storage: Storage, listener: str | None) -> int:
    """Make dead letters due again (all, or one listener's); returns how many."""
    with transaction(storage) as session:
        return int(session.outbox_replay(listener, now_ms()))


def purge(storage: Storage, listener: str | None) -> int:
    """Delete dead letters (all, or one listener's); returns how many."""
    with transaction(storage) as session:
        return int(session.outbox_purge(listener))


def run_relay(relay: Relay, interval: float, once: bool) -> int | None:
    """One round (returns how many were delivered), or rounds until SIGTERM/SIGINT."""
    if once:
        return relay.run_once()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    log.info("outbox relay running, every %gs at most; SIGTERM or Ctrl-C stops it", interval)
    relay.run_forever(stop, interval)
    return None


def _print(result: Any) -> None:
    click.echo(json.dumps(result, indent=2))


@click.group("outbox", cls=DefaultGroup, default="stats")
def group() -> None:
    """The outbox: events waiting for their listeners, and dead letters."""


@group.command("stats")
@ini_argument
@watch_options
@traceback_option
def stats_command(ini: str, watch_seconds: float | None) -> None:
    """Backlog, age of the oldest entry, dead letters (JSON)."""
    registry = app_registry(ini)
    storage = storage_of(registry)
    if watch_seconds is None:
        _print({**stats(storage), "disabled_endpoints": disabled_endpoints(registry)})
        return
    figures = lambda: Sample(stats(storage))  # noqa: E731
    watch(f"outbox of {ini}", figures, watch_seconds, rates=("backlog", "dead"))


@group.command("dead")
@ini_argument
@click.option("--limit", type=click.IntRange(1), default=100, show_default=True)
@traceback_option
def dead_command(ini: str, limit: int) -> None:
    """List dead letters with their last error (JSON)."""
    _print(dead_letters(storage_of(app_registry(ini)), limit))


@group.command("replay")
@ini_argument
@click.option("--listener", help="Only this listener's dead letters.")
@traceback_option
def replay_command(ini: str, listener: str | None) -> None:
    """Make dead letters due again, for the relay to deliver."""
    _print({"replayed": replay(storage_of(app_registry(ini)), listener)})


@group.command("purge")
@ini_argument
@click.option("--listener", help="Only this listener's dead letters.")
@yes_option
@traceback_option
def purge_command(ini: str, listener: str | None, yes: bool) -> None:
    """Delete dead letters."""
    storage = storage_of(app_registry(ini))
    whose = f"listener {listener}'s" if listener else "all"
    confirm(f"delete {whose} outbox dead letters of {ini}?", yes)
    _print({"purged": purge(storage, listener)})


@group.command("relay")
@ini_argument
@click.option("--once", is_flag=True, help="One round, then exit.")
@traceback_option
def relay_command(ini: str, once: bool) -> None:
    """Run the relay in this process (with relay.in_process = false in the app)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    apply_log_format(log_format_of(app_settings(ini)))
    relay, interval = relay_of(app_registry(ini))
    delivered = run_relay(relay, interval, once)
    if delivered is not None:
        _print({"delivered": delivered})
