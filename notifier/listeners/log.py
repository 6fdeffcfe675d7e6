"""The log listener: one JSON line per event.

Settings under its prefix: ``logger`` (default ``notifier.delivery.events``) and
``level`` (DEBUG, INFO, WARNING, ERROR or CRITICAL; default INFO).
"""

from __future__ import annotations

import logging
from typing import Any

from notifier.delivery.events import ResourceChanged
from notifier.listeners import ListenerBase
from notifier.settings import Section, SettingsError, suggestion

#: Keys this listener reads (the loader adds the dispatcher's filter keys).
SETTINGS_KEYS = ("logger", "level")
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class LogListener(ListenerBase):
    """Writes each event's message as one JSON line to a logger."""

    def __init__(self, logger: logging.Logger, level: int) -> None:
        self.logger = logger
        self.level = level

    def __call__(self, event: ResourceChanged) -> None:
        self.logger.log(self.level, "%s", event.to_json())


def load_from_config(config: Any, prefix: str) -> LogListener:
    section = Section(config.get_settings(), prefix)
    level = section.str("level", "INFO").upper()
    if level not in LEVELS:
        raise SettingsError(
            section.key("level"),
            f"expected one of {', '.join(LEVELS)}{suggestion(level, LEVELS)}",
            section.raw("level"),
        )
    logger = logging.getLogger(section.str("logger", "notifier.delivery.events"))
    return LogListener(logger, getattr(logging, level))
