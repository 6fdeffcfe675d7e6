"""A userid secret of this checkout's own, for ``./dev serve``.

Made once with ``secrets.token_hex``, kept in ``var/dev-secret`` beside the
INI file (``var/`` is ignored by git), readable by its owner only, so every
checkout has its own and none ships in the repository.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

FILE = Path("var") / "dev-secret"


def checkout_secret(folder: str | Path) -> str:
    """The secret stored under ``folder``, made on first use."""
    path = Path(folder) / FILE
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_hex(32)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(secret + "\n")
    return secret
