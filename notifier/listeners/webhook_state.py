"""Which webhook endpoints answered 410 Gone: kept in the storage, so every process agrees.

A 410 disables an endpoint until an operator enables it again.  Servers,
relays and workers of one deployment share one storage (the SQLite file on
one machine, PostgreSQL across machines), so the state lives there, as one
object per disabled endpoint under notifier's internal parent, that no HTTP
route reaches and ``POST /v1/__flush__`` keeps
(``__notifier__/webhooks/<listener>``): the storage interface as it is, no
table of its own.  Each process reads the state at most every
``REFRESH`` seconds, so a re-enabled endpoint gets events again within that.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from notifier.listeners.webhook_settings import Endpoint
from notifier.storage import INTERNAL_PARENT, Storage, transaction

log = logging.getLogger(__name__)

RESOURCE = "webhook_endpoint"
#: Seconds a process trusts what it last read.
REFRESH = 5.0


def parent_of(listener: str) -> str:
    """Where the disabled endpoints of ``listener`` are kept."""
    return f"{INTERNAL_PARENT}/webhooks/{listener}"


def endpoint_key(endpoint: Endpoint) -> str:
    """The stored object's id: a digest, since the URL may hold a token."""
    return hashlib.sha256(endpoint.url.encode()).hexdigest()[:32]


class EndpointStates:
    """The disabled endpoints of one listener, read through a short cache."""

    def __init__(
        self, open_storage: Callable[[], Storage], listener: str, refresh: float = REFRESH
    ) -> None:
        self._open_storage = open_storage
        self._storage: Storage | None = None
        self.parent_id = parent_of(listener)
        self.refresh = refresh
        self._lock = threading.Lock()
        self._disabled: dict[str, str] = {}
        self._read_at = float("-inf")

    @property
    def storage(self) -> Storage:
        with self._lock:
            if self._storage is None:
                self._storage = self._open_storage()
            return self._storage

    def disabled(self) -> dict[str, str]:
        """Endpoint key -> reason, for the disabled ones.

        When the storage cannot be read, the last state read stays in force.
        """
        if time.monotonic() - self._read_at < self.refresh:
            return self._disabled
        try:
            with transaction(self.storage, write=False) as session:
                objects = session.list(RESOURCE, self.parent_id)
        except Exception:
            log.exception("webhook state %s: cannot read; keeping the last known", self.parent_id)
            return self._disabled
        self._disabled = {obj["id"]: str(obj.get("reason", "")) for obj in objects}
        self._read_at = time.monotonic()
        return self._disabled

    def is_disabled(self, endpoint: Endpoint) -> str | None:
        """The reason ``endpoint`` is disabled, or None."""
        return self.disabled().get(endpoint_key(endpoint))

    def disable(self, endpoint: Endpoint, reason: str) -> None:
        """Record that ``endpoint`` is gone; this process stops at once, others within REFRESH."""
        key = endpoint_key(endpoint)
        self._disabled = {**self._disabled, key: reason}
        record: dict[str, Any] = {
            "id": key,
            "url": endpoint.label,
            "reason": reason,
            "disabled_at": int(time.time() * 1000),
        }
        try:
            with transaction(self.storage) as session:
                session.update(RESOURCE, self.parent_id, record)
        except Exception:
            log.exception("webhook state %s: cannot record %s as disabled", self.parent_id, key)

    def enable(self, endpoints: Sequence[Endpoint]) -> list[Endpoint]:
        """Enable ``endpoints`` again; return those that were disabled."""
        keys = {endpoint_key(endpoint): endpoint for endpoint in endpoints}
        with transaction(self.storage) as session:
            stored = {obj["id"] for obj in session.list(RESOURCE, self.parent_id)}
            enabled = [endpoint for key, endpoint in keys.items() if key in stored]
            for endpoint in enabled:
                session.delete(RESOURCE, self.parent_id, endpoint_key(endpoint))
        self._read_at = float("-inf")
        return enabled

    def close(self) -> None:
        with self._lock:
            storage, self._storage = self._storage, None
        if storage is not None:
            storage.close()
