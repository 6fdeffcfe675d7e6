"""Running the real ``notifier`` console script in a subprocess, with a bounded time."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: The script pip installed beside this interpreter (``.venv/bin/notifier``).
NOTIFIER = str(Path(sys.executable).with_name("notifier"))


def notifier(
    *args: str,
    env: dict[str, str] | None = None,
    cwd: str | Path = ROOT,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """``notifier ARGS...`` with stdin closed (as in CI), its output captured."""
    return subprocess.run(
        [NOTIFIER, *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    """The error line of a failed command; fails the test unless there is exactly one."""
    assert done.returncode != 0, done.stdout
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr
    return lines[0]
