"""The app's assembly: settings, storage, HTTP, the delivery core, and the directives.

``notifier.main`` and ``notifier.includeme`` (the entry points PasteDeploy
and Pyramid know) call in here, so that importing ``notifier`` imports no
Pyramid.  The directives (``add_heartbeat``, ``add_capability``,
``add_listener``, ``add_delivery_observer``) register through ``config.action`` with discriminators:
two of the same name are a ConfigurationConflictError naming both places.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from pyramid.config import Configurator
from pyramid.router import Router

from notifier.delivery.loader import LoadedListener
from notifier.delivery.observers import DeliveryObserver
from notifier.http.errors import add_error_views
from notifier.logs.setup import apply_log_format, log_format_of
from notifier.secret import check_userid_secret
from notifier.settings import Section, load_settings
from notifier.state import HealthCheck, Heartbeat, NotifierState, state_of
from notifier.storage import load_storage

log = logging.getLogger(__name__)

#: The longest ``shutdown`` waits for the relay thread to finish its round.
RELAY_JOIN_TIMEOUT = 10.0


def _read_core_settings(config: Configurator) -> None:
    """Check and type the core settings in place, so views read ready values."""
    settings = config.get_settings()
    core = Section(settings, "notifier.")
    check_userid_secret(settings)
    settings["notifier.batch_max_requests"] = core.int("batch_max_requests", minimum=1)
    settings["notifier.max_request_body_bytes"] = core.int("max_request_body_bytes", minimum=1)
    settings["notifier.max_json_depth"] = core.int("max_json_depth", minimum=2, maximum=200)
    settings["notifier.paginate_by"] = core.int("paginate_by", minimum=1, maximum=10000)
    settings["notifier.bucket_create_principals"] = core.list("bucket_create_principals", "")
    settings["notifier.log_format"] = log_format_of(settings)


def add_heartbeat(
    config: Configurator, name: str, check: HealthCheck, threaded: bool = False
) -> None:
    """Directive: report ``check(request)`` under ``name`` in ``/v1/__heartbeat__``.

    A check that returns None reports nothing.  A ``threaded`` check (one
    that calls over the network) runs in a thread of its own and is reported
    as failed when it does not answer within ``notifier.heartbeat.timeout``.
    """
    state = state_of(config.registry)

    def register() -> None:
        state.heartbeats[name] = Heartbeat(check, threaded)

    config.action(("notifier.heartbeat", name), register)


def add_capability(config: Configurator, name: str, description: str, **extra: Any) -> None:
    """Directive: announce a capability in ``/v1/``, as Kinto plugins do."""
    state = state_of(config.registry)

    def register() -> None:
        state.capabilities[name] = {"description": description, **extra}

    config.action(("notifier.capability", name), register)


def add_listener(config: Configurator, loaded: LoadedListener) -> None:
    """Directive: deliver events to ``loaded``; a heartbeat it has goes under its name."""
    state = state_of(config.registry)

    def register() -> None:
        state.listeners.append(loaded)

    config.action(("notifier.listener", loaded.name), register)
    if loaded.reports_health:
        config.add_heartbeat(loaded.name, lambda request: loaded.heartbeat(), threaded=True)


def add_delivery_observer(config: Configurator, observer: DeliveryObserver) -> None:
    """Directive: tell ``observer`` what the dispatcher and the relay deliver (metrics)."""
    state = state_of(config.registry)
    config.action(None, lambda: state.observers.add(observer))


def includeme(config: Configurator) -> None:
    """Set notifier up on ``config``; a bad setting stops here with a SettingsError."""
    _read_core_settings(config)
    config.include("notifier.http.auth")
    config.registry.notifier = NotifierState(storage=load_storage(config.get_settings()))
    config.add_directive("add_heartbeat", add_heartbeat)
    config.add_directive("add_capability", add_capability)
    config.add_directive("add_listener", add_listener)
    config.add_directive("add_delivery_observer", add_delivery_observer)
    config.include("notifier.http.request")
    config.include("notifier.http.requestid")
    add_error_views(config)
    config.include("notifier.http.transaction")
    config.include("notifier.http.validation")
    config.include("notifier.http.views", route_prefix="/v1")
    config.include("notifier.plugins")  # notifier.includes, before the listeners load
    config.include("notifier.http.redirects")
    config.include("notifier.delivery.setup")


def configure(global_config: dict[str, Any] | None, settings: dict[str, Any]) -> Configurator:
    """A committed Configurator: INI settings, then the environment, then checks.

    When a check fails, what was already opened (the storage, listeners'
    clients) is closed before the error goes up.
    """
    settings = load_settings(settings)
    here = (global_config or {}).get("here", os.getcwd())
    backend = settings["notifier.storage_backend"]
    url = settings["notifier.storage_url"]
    if backend == "notifier.storage.sqlite" and not os.path.isabs(url):
        settings["notifier.storage_url"] = os.path.join(here, url)
    config = Configurator(settings=settings)
    try:
        with config:
            config.include(includeme)
    except BaseException:
        shutdown(config.registry)
        raise
    return config


def configure_from_ini(path: str) -> Configurator:
    """The same configuration as the app of ``path``'s ``[app:main]``, without serving it."""
    from pyramid.paster import get_appsettings

    path = os.path.abspath(path)
    settings = dict(get_appsettings(path, name="main"))
    return configure({"here": os.path.dirname(path)}, settings)


def make_app(global_config: dict[str, Any] | None, settings: dict[str, Any]) -> Router:
    """The WSGI application; starts the in-process relay unless disabled."""
    # Logging is configured by now (pserve and `notifier serve` read the INI's first):
    # the format applies before the app logs much (read once: Kinto keys log a line).
    settings = load_settings(settings)
    apply_log_format(log_format_of(settings))
    config = configure(global_config, settings)
    app = config.make_wsgi_app()
    state = state_of(config.registry)
    if state.relay_in_process and state.listeners:
        state.relay_stop, state.relay_thread = state.relay.start_thread(state.relay_interval)
    return app


def shutdown(registry: Any) -> None:
    """Stop what the app started, in order: the relay, the listeners' clients, the storage.

    Safe to call twice, and on a registry whose configuration failed half way.
    """
    state = getattr(registry, "notifier", None)
    if not isinstance(state, NotifierState) or state.closed:
        return
    state.closed = True
    if state.relay_stop is not None:
        state.relay_stop.set()
    if state.relay_thread is not None:
        state.relay_thread.join(RELAY_JOIN_TIMEOUT)
    if state.heartbeat_pool is not None:
        state.heartbeat_pool.shutdown(wait=True, cancel_futures=True)
    for loaded in state.opened:
        try:
            loaded.close()
        except Exception:
            log.exception("listener %s failed to close", loaded.name)
    state.storage.close()
