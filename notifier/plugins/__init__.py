"""Plugins: Pyramid includes named in ``notifier.includes``, and the API they use.

As ``kinto.includes`` does for Kinto, ``notifier.includes`` lists dotted
module names that are ``config.include``d in order, under the ``/v1`` route
prefix, after the core API and before the listeners are loaded.  A plugin's
``includeme(config)`` may use Pyramid's own directives (``add_route``,
``add_view``, ``add_cornice_service``, ``add_subscriber``) and these:

- ``config.add_settings_defaults(prefix, defaults)``: fill in the plugin's
  settings (environment overrides apply), refuse unknown keys under
  ``prefix``, and return a ``Section`` whose readers raise SettingsError;
- ``config.add_event_listener(name, module, **options)``: a listener, as
  if the INI had named it;
- ``config.add_heartbeat(name, check)`` and
  ``config.add_capability(name, description, **extra)``;
- ``config.add_auth_policy(name, identify)`` (``notifier.http.auth_policies``);
- ``config.add_delivery_observer(observer)``: hear what the dispatcher and
  the relay deliver (``notifier.delivery.observers``; the prometheus plugin).

This package may import notifier.settings and notifier.http's directives;
the plugins under it (accounts, flush, prometheus) are what it imports lazily.

Never imports: ``notifier.worker``, ``notifier.cli``.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping
from typing import Any

from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationError

from notifier.settings import Section, SettingsError, as_list, check_known_keys, environ_name

log = logging.getLogger(__name__)

INCLUDES_KEY = "notifier.includes"
LISTENERS_KEY = "notifier.event_listeners"


def add_settings_defaults(
    config: Configurator, prefix: str, defaults: Mapping[str, object]
) -> Section:
    """Directive: declare a plugin's settings under ``prefix`` (e.g. ``notifier.flush.``).

    Keys the INI leaves out get their default; ``NOTIFIER_FLUSH_X`` in the
    environment overrides ``notifier.flush.x``; a key under ``prefix`` that is
    not declared stops the start with a SettingsError suggesting the closest.
    """
    import os

    settings = config.get_settings()
    for name, default in defaults.items():
        key = prefix + name
        value = os.environ.get(environ_name(key))
        if value is not None:
            settings[key] = value
        elif key not in settings:
            settings[key] = default
    check_known_keys(prefix, settings, defaults)
    return Section(settings, prefix)


def add_event_listener(config: Configurator, name: str, module: str, **options: object) -> None:
    """Directive: add listener ``name`` (``module``'s ``load_from_config``) after the INI's.

    Options are its settings without the prefix (``listname="q"``).  A name
    the INI, or another plugin, already uses is a ConfigurationError.
    """
    settings = config.get_settings()
    names = as_list(settings.get(LISTENERS_KEY, ""))
    prefix = f"{LISTENERS_KEY}.{name}."
    if name in names or prefix + "use" in settings:
        raise ConfigurationError(f"listener {name!r} is defined twice ({module})")
    settings[LISTENERS_KEY] = " ".join([*names, name])
    settings[prefix + "use"] = module
    for option, value in options.items():
        settings[prefix + option] = value


def _import_plugin(name: str) -> Any:
    """The module ``name``; a missing one is a SettingsError, an error inside it is itself."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name is None or not name.startswith(error.name):
            raise
        raise SettingsError(INCLUDES_KEY, f"no module named {name!r}", name) from None


def include_plugins(config: Configurator) -> None:
    """Include each module of ``notifier.includes``, in order, under ``/v1``."""
    names = as_list(config.get_settings().get(INCLUDES_KEY, ""))
    for name in names:
        if names.count(name) > 1:
            raise SettingsError(INCLUDES_KEY, f"{name!r} is listed twice", " ".join(names))
    for name in names:
        module = _import_plugin(name)
        if not callable(getattr(module, "includeme", None)):
            raise SettingsError(INCLUDES_KEY, f"module {name!r} has no includeme(config)", name)
        log.info("including plugin %s", name)
        config.include(module, route_prefix="/v1")


def includeme(config: Configurator) -> None:
    """The directives, then the plugins of ``notifier.includes``."""
    config.add_directive("add_settings_defaults", add_settings_defaults)
    config.add_directive("add_event_listener", add_event_listener)
    include_plugins(config)
    config.choose_auth_policies()  # the plugins may have added policies that the INI names
