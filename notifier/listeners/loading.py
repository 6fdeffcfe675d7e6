"""Build one named listener from an INI file, outside the web application.

The email test command and the worker scripts use this to build the very
listener the application would build from the same INI section, with the
same checks and the same filters.  The listener need not be named in
``notifier.event_listeners``: a worker's listener often is not, since the
application should not also call it in the request.
"""

from __future__ import annotations

from pyramid.config import Configurator
from pyramid.paster import get_appsettings

from notifier.listeners.loader import PREFIX, LoadedListener, load_listener
from notifier.settings import load_settings


def listener_prefix(name: str) -> str:
    """``send_email`` -> ``notifier.event_listeners.send_email.``."""
    return f"{PREFIX}.{name}."


def listener_from_ini(path: str, name: str) -> LoadedListener:
    """The listener ``name`` of ``path``'s ``[app:main]``, its filters applied.

    Environment overrides apply as in the application.  Raises SettingsError
    as the application would at start-up.
    """
    settings = load_settings(get_appsettings(path, name="main"))
    return load_listener(Configurator(settings=settings), settings, name)
