"""Create or upgrade the storage schema (``notifier migrate app.ini`` runs it).

The one place a schema changes.  A backend that needs migrations (PostgreSQL,
shared by several processes) exposes ``migrate_from_settings(settings)``;
the app refuses to start until this command has run.  SQLite creates its
schema when it opens its file, so there is nothing to do for it here.
"""

from __future__ import annotations

import importlib
from typing import Any

from pyramid.paster import get_appsettings

from notifier.settings import SettingsError, load_settings


def read_settings(config_uri: str, name: str) -> dict[str, Any]:
    """The app's settings as ``main`` sees them: defaults, INI, environment."""
    return load_settings(get_appsettings(config_uri, name=name))


def migrate(settings: dict[str, Any]) -> list[str]:
    """Run the backend's migrations; lines telling what was done."""
    backend = str(settings["notifier.storage_backend"])
    try:
        module = importlib.import_module(backend)
    except ModuleNotFoundError as error:
        if error.name is None or not backend.startswith(error.name):
            raise
        raise SettingsError("notifier.storage_backend", "no such module", backend) from None
    run = getattr(module, "migrate_from_settings", None)
    if run is None:
        return [f"{backend} manages its own schema: nothing to migrate"]
    lines: list[str] = run(settings)
    return lines
