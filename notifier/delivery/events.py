"""ResourceChanged, the one event type, and the message listeners serialise.

The payload keeps Kinto's keys (``action``, ``uri``, ``resource_name``,
``user_id``, ``timestamp``, ``bucket_id``, ``collection_id``,
``<resource>_id``) and adds ``event_id``, stable across retries, so that a
consumer can be idempotent, and ``request_id``, the ``X-Request-Id`` of the
request that made the change, so that a consumer's log line leads back to
it.  Both live in the payload, which the outbox stores: a retry carries them.
The message is the payload's JSON with ``impacted_objects`` beside it.

An event is built here and nowhere else (``ResourceChanged.of_change``), and
an outbox row is read and written here (``outbox_record``, ``from_outbox``).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from notifier.delivery.changes import Change

ACTIONS = ("create", "update", "delete")
RESOURCES = ("bucket", "collection", "record")
#: The keys of an outbox record that stores more than the message.
OUTBOX_MESSAGE = "message"
OUTBOX_REQUEST = "request"


@dataclass(frozen=True)
class ResourceChanged:
    """One object was created, updated or deleted by a committed write.

    ``impacted_objects`` is ``[{"old": ..., "new": ...}]`` with full objects:
    no ``old`` on create; on delete ``new`` is the tombstone.  ``request`` is
    the Pyramid request when the event is delivered in the request thread, a
    stand-in rebuilt from the outbox when the relay delivers it
    (``notifier.delivery.standin``), and None for a worker's queue message.
    """

    payload: dict[str, Any]
    impacted_objects: list[dict[str, Any]]
    request: Any = field(default=None, repr=False, compare=False)

    @property
    def event_id(self) -> str:
        return str(self.payload["event_id"])

    @property
    def request_id(self) -> str | None:
        """The id of the request that made the change (None for an event made without one)."""
        value = self.payload.get("request_id")
        return None if value is None else str(value)

    @property
    def action(self) -> str:
        return str(self.payload["action"])

    @property
    def resource_name(self) -> str:
        return str(self.payload["resource_name"])

    def message(self) -> dict[str, Any]:
        """The event as plain data: the payload with ``impacted_objects`` beside it."""
        return {**self.payload, "impacted_objects": self.impacted_objects}

    def to_json(self) -> str:
        """The message as JSON, serialised once per event.

        The outbox row and each listener (queue, log) send the same text: the
        one taken before commit, which is also what a retry sends.  A create
        with the Redis listener serialised it twice.
        """
        return self._json

    @cached_property
    def _json(self) -> str:
        return json.dumps(self.message(), separators=(",", ":"), sort_keys=True)

    @classmethod
    def of_change(
        cls, change: Change, request: Any = None, request_id: str | None = None
    ) -> ResourceChanged:
        """The event of one change: Kinto's payload keys, a fresh ``event_id``, and
        the ``request_id`` of the request that made it (None when no request did)."""
        payload: dict[str, Any] = {
            "action": change.action,
            "uri": change.uri,
            "resource_name": change.resource_name,
            "user_id": change.user_id,
            "timestamp": change.new["last_modified"],
            "event_id": uuid.uuid4().hex,
            "request_id": request_id,
            **change.parents,
            f"{change.resource_name}_id": change.new["id"],
        }
        impacted: dict[str, Any] = {"new": change.new}
        if change.old is not None:
            impacted = {"old": change.old, "new": change.new}
        return cls(payload, [impacted], request)

    def outbox_record(self, request: dict[str, Any] | None = None) -> str:
        """What the outbox stores for this event: the message, and beside it ``request``
        (what a retry may rebuild a stand-in request from), when there is one.

        Without ``request`` the record is the message itself, as rows always were.
        """
        if not request:
            return self.to_json()
        return json.dumps({OUTBOX_REQUEST: request, OUTBOX_MESSAGE: self.message()})

    @classmethod
    def from_outbox(cls, text: str | bytes) -> tuple[ResourceChanged, dict[str, Any]]:
        """The event of an outbox record, and the request data stored beside it."""
        record = json.loads(text)
        if isinstance(record, dict) and OUTBOX_MESSAGE in record:
            event = cls.from_message(record[OUTBOX_MESSAGE])
            return event, dict(record.get(OUTBOX_REQUEST) or {})
        return cls.from_json(text), {}

    @classmethod
    def from_message(cls, message: dict[str, Any]) -> ResourceChanged:
        """Rebuild an event from its message (a queue entry, an outbox row)."""
        payload = {key: value for key, value in message.items() if key != "impacted_objects"}
        return cls(payload=payload, impacted_objects=list(message.get("impacted_objects", [])))

    @classmethod
    def from_json(cls, text: str | bytes) -> ResourceChanged:
        message = json.loads(text)
        if not isinstance(message, dict) or "action" not in message:
            raise ValueError("an event message is a JSON object with an 'action' key")
        return cls.from_message(message)
