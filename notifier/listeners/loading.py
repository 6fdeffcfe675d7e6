"""Build one named listener from an INI file, outside the web application.

The email test command and the worker scripts use this to build the very
listener the application would build from the same INI section.  The listener
need not be named in ``notifier.event_listeners``: a worker's listener often
is not, since the application should not also call it in the request.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Mapping
from typing import Any

from pyramid.config import Configurator
from pyramid.paster import get_appsettings

from notifier.listeners import Listener
from notifier.settings import PREFIX, SettingsError, load_settings

LISTENERS = PREFIX + "event_listeners"


def listener_prefix(name: str) -> str:
    """``send_email`` -> ``notifier.event_listeners.send_email.``."""
    return f"{LISTENERS}.{name}."


def listener_from_ini(path: str, name: str) -> Listener:
    """The listener ``name`` built from the ``[app:main]`` settings of ``path``.

    Environment overrides apply as in the application.  Raises SettingsError
    when the listener has no ``.use`` or its module cannot be found.
    """
    settings = load_settings(get_appsettings(path))
    return listener_from_settings(settings, name)


def listener_from_settings(settings: Mapping[str, Any], name: str) -> Listener:
    """The listener ``name`` built by its module's ``load_from_config``."""
    prefix = listener_prefix(name)
    key = prefix + "use"
    module_name = str(settings.get(key) or "").strip()
    if not module_name:
        configured = " ".join(sorted(_configured_names(settings))) or "none"
        raise SettingsError(key, f"is required (listeners configured in this file: {configured})")
    module = _import(key, module_name)
    factory = getattr(module, "load_from_config", None)
    if not callable(factory):
        raise SettingsError(key, "the module has no load_from_config(config, prefix)", module_name)
    listener = factory(Configurator(settings=dict(settings)), prefix)
    if not callable(listener):
        raise SettingsError(key, "load_from_config did not return a callable", module_name)
    return listener


def _import(key: str, module_name: str) -> Any:
    """Import ``module_name``; "no such module" is a SettingsError, other errors propagate."""
    try:
        found = importlib.util.find_spec(module_name)
    except ModuleNotFoundError:
        found = None
    if found is None:
        raise SettingsError(key, "no such module", module_name)
    return importlib.import_module(module_name)


def _configured_names(settings: Mapping[str, Any]) -> set[str]:
    start = LISTENERS + "."
    return {
        key[len(start) :].split(".", 1)[0]
        for key in settings
        if key.startswith(start) and key.endswith(".use")
    }
