"""Write INI files for tests of commands and workers that read one."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path


def write_ini(path: Path, settings: Mapping[str, str]) -> str:
    """Write ``settings`` as the ``[app:main]`` section of ``path``; return the path.

    ``call:notifier:main`` is ``egg:notifier`` without needing the package
    installed; reading the settings imports the factory but never calls it.
    """
    lines = ["[app:main]", "use = call:notifier:main"]
    for key, value in settings.items():
        # INI values span lines by indenting the following ones; % is interpolation.
        text = str(value).replace("%", "%%").replace("\n", "\n    ")
        lines.append(f"{key} = {text}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)
