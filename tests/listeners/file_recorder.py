"""Appends each event as a JSON line to ``path``; with ``hang`` it announces the
first event in ``path + '.entered'`` and then hangs, so a test can kill the process."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from notifier.delivery.events import ResourceChanged
from notifier.listeners import ListenerBase
from notifier.settings import Section


class FileRecorder(ListenerBase):
    def __init__(self, path: Path, hang: bool) -> None:
        self.path = path
        self.hang = hang

    def __call__(self, event: ResourceChanged) -> None:
        if self.hang:
            Path(f"{self.path}.entered").write_text(event.event_id)
            time.sleep(120)
        with self.path.open("a") as output:
            output.write(event.to_json() + "\n")


def load_from_config(config: Any, prefix: str) -> FileRecorder:
    section = Section(config.get_settings(), prefix)
    return FileRecorder(Path(section.str("path")), section.bool("hang", False))
