"""An injected fault: a listener that takes ``seconds`` per event and does nothing else.

Listed before another listener, it widens the window between a write's
commit and that listener's delivery, where a killed server leaves the
delivery to the relays.
"""

from __future__ import annotations

import time
from typing import Any

from notifier.delivery.events import ResourceChanged
from notifier.listeners import ListenerBase
from notifier.settings import Section


class Pause(ListenerBase):
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __call__(self, event: ResourceChanged) -> None:
        time.sleep(self.seconds)


def load_from_config(config: Any, prefix: str) -> Pause:
    return Pause(Section(config.get_settings(), prefix).float("seconds"))
