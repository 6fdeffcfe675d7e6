"""An injected fault: a listener that holds each event until the test opens the gate."""

from __future__ import annotations

import threading
from typing import Any

from notifier.delivery.events import ResourceChanged
from notifier.listeners import ListenerBase


class Gate(ListenerBase):
    """Open unless held; ``entered`` is set when a call waits at the held gate."""

    def __init__(self) -> None:
        self.opened = threading.Event()
        self.opened.set()
        self.entered = threading.Event()

    def hold(self) -> None:
        self.opened.clear()

    def let_go(self) -> None:
        self.opened.set()

    def __call__(self, event: ResourceChanged) -> None:
        if not self.opened.is_set():
            self.entered.set()
            if not self.opened.wait(timeout=10):
                raise TimeoutError("the test never opened the gate")


def load_from_config(config: Any, prefix: str) -> Gate:
    return Gate()
