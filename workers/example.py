"""An example handler for ``notifier worker --handler workers.example:handle``.

Raise to have the message retried with backoff (and dead-lettered after
``--max-attempts``); return to acknowledge it.  Use ``event.event_id`` to
make a handler idempotent: delivery is at least once.
"""

from __future__ import annotations

import logging

from notifier.delivery.events import ResourceChanged

log = logging.getLogger(__name__)


def handle(event: ResourceChanged) -> None:
    """Log one line per event."""
    log.info("%s %s %s", event.action, event.payload.get("uri"), event.event_id)
