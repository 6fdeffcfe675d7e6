"""Write INI files for tests of commands and workers that read one."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any


def app(global_config: Mapping[str, Any], **settings: Any) -> Any:
    """A stand-in app factory: ``get_appsettings`` imports ``use`` but never calls it.

    It keeps these INI files independent of the HTTP application.
    """
    raise NotImplementedError("tests.ini:app only stands in for notifier:main")


def write_ini(path: Path, settings: Mapping[str, str]) -> str:
    """Write ``settings`` as the ``[app:main]`` section of ``path``; return the path."""
    lines = ["[app:main]", "use = call:tests.ini:app"]
    for key, value in settings.items():
        # INI values span lines by indenting the following ones; % is interpolation.
        text = str(value).replace("%", "%%").replace("\n", "\n    ")
        lines.append(f"{key} = {text}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)
