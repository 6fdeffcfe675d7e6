"""notifier: a Kinto-compatible JSON record service whose writes notify listeners.

``main`` is the PasteDeploy app factory (``use = egg:notifier``);
``includeme`` adds notifier to an existing Pyramid configuration.
"""

from __future__ import annotations

import os
from typing import Any

from pyramid.config import Configurator
from pyramid.router import Router

from notifier.http.errors import add_error_views
from notifier.settings import Section, load_settings
from notifier.storage import load_storage

__version__ = "0.1.0"


def _read_core_settings(config: Configurator) -> None:
    """Check and type the core settings in place, so views read ready values."""
    settings = config.get_settings()
    core = Section(settings, "notifier.")
    settings["notifier.batch_max_requests"] = core.int("batch_max_requests", minimum=1)
    settings["notifier.max_request_body_bytes"] = core.int("max_request_body_bytes", minimum=1)
    settings["notifier.paginate_by"] = core.int("paginate_by", minimum=1, maximum=10000)
    settings["notifier.bucket_create_principals"] = core.list("bucket_create_principals", "")


def includeme(config: Configurator) -> None:
    """Set notifier up on ``config``; a bad setting stops here with a SettingsError."""
    _read_core_settings(config)
    config.include("notifier.http.auth")
    config.registry.notifier_storage = load_storage(config.get_settings())
    config.include("notifier.http.request")
    add_error_views(config)
    config.include("notifier.http.transaction")
    config.include("notifier.http.views", route_prefix="/v1")
    config.include("notifier.plugins")  # notifier.includes, before the listeners load
    config.include("notifier.delivery.dispatcher")


def configure(global_config: dict[str, Any] | None, settings: dict[str, Any]) -> Configurator:
    """A committed Configurator: INI settings, then the environment, then checks."""
    settings = load_settings(settings)
    here = (global_config or {}).get("here", os.getcwd())
    backend = settings["notifier.storage_backend"]
    url = settings["notifier.storage_url"]
    if backend == "notifier.storage.sqlite" and not os.path.isabs(url):
        settings["notifier.storage_url"] = os.path.join(here, url)
    with Configurator(settings=settings) as config:
        config.include(includeme)
    return config


def configure_from_ini(path: str) -> Configurator:
    """The same configuration as the app of ``path``'s ``[app:main]``, without serving it."""
    from pyramid.paster import get_appsettings

    path = os.path.abspath(path)
    settings = dict(get_appsettings(path, name="main"))
    return configure({"here": os.path.dirname(path)}, settings)


def main(global_config: dict[str, Any] | None = None, **settings: Any) -> Router:
    """The WSGI application for ``pserve``; starts the in-process relay unless disabled."""
    config = configure(global_config, settings)
    app = config.make_wsgi_app()
    registry = config.registry
    if registry.notifier_relay_in_process and registry.notifier_dispatcher.listeners:
        registry.notifier_relay_stop = registry.notifier_relay.start_thread(
            registry.notifier_relay_interval
        )
    return app


def shutdown(registry: Any) -> None:
    """Stop what ``main`` started, in order: the relay, pending outbox deletes,
    the listeners' clients, then the storage."""
    stop = getattr(registry, "notifier_relay_stop", None)
    if stop is not None:
        stop.set()
    dispatcher = registry.notifier_dispatcher
    dispatcher.acks.flush()
    for loaded in dispatcher.listeners:
        loaded.close()
    registry.notifier_storage.close()
