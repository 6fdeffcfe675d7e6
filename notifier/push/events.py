"""Stream entries as push events, stream positions, and what a subscriber wants.

An event's ``id`` is its Redis Stream id (``1733123456789-0``): ordered,
unique, and what a client sends back as ``Last-Event-ID`` or ``?since=``.
The SSE and WebSocket frames of an event are built once, however many
subscribers get it.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

log = logging.getLogger(__name__)

ACTIONS = ("create", "update", "delete")
RESOURCES = ("bucket", "collection", "record")
POSITION = re.compile(r"^(\d{1,20})(?:-(\d{1,20}))?$")

Position = tuple[int, int]


def parse_position(text: str) -> Position:
    """``1733123456789-3`` (or ``1733123456789``) as a comparable pair; ValueError if not one."""
    match = POSITION.match(text.strip())
    if match is None:
        raise ValueError(text)
    return int(match.group(1)), int(match.group(2) or 0)


def format_position(position: Position) -> str:
    return f"{position[0]}-{position[1]}"


@dataclass(frozen=True)
class StreamEvent:
    """One stream entry: its position, what the filters look at, and the message JSON."""

    id: str
    position: Position
    action: str
    resource_name: str
    bucket_id: str | None
    collection_id: str | None
    record_id: str | None
    json: str

    @cached_property
    def sse(self) -> bytes:
        """The Server-Sent Events frame: ``id:``, ``event:`` (the action), ``data:``."""
        return f"id: {self.id}\nevent: {self.action}\ndata: {self.json}\n\n".encode()

    @cached_property
    def ws(self) -> str:
        """The WebSocket text message: ``{"id", "event", "data"}``."""
        head = json.dumps({"id": self.id, "event": self.action})
        return head[:-1] + ', "data": ' + self.json + "}"


def event_from_entry(entry_id: bytes | str, fields: dict[Any, Any]) -> StreamEvent | None:
    """The event of one XREAD/XRANGE entry, or None (logged) for one that is not ours."""
    ident = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    raw = fields.get(b"message", fields.get("message"))
    try:
        text = raw.decode() if isinstance(raw, bytes) else str(raw)
        message = json.loads(text)
        return StreamEvent(
            id=ident,
            position=parse_position(ident),
            action=str(message["action"]),
            resource_name=str(message["resource_name"]),
            bucket_id=message.get("bucket_id"),
            collection_id=message.get("collection_id"),
            record_id=message.get("record_id"),
            json=text,
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        log.warning("push: stream entry %s is not an event message; skipped", ident)
        return None


@dataclass(frozen=True)
class Target:
    """A subscription: one object (and everything below it), and the query filters."""

    bucket_id: str
    collection_id: str | None = None
    record_id: str | None = None
    actions: frozenset[str] | None = None
    resources: frozenset[str] | None = None

    @property
    def uri(self) -> str:
        uri = f"/buckets/{self.bucket_id}"
        if self.collection_id is not None:
            uri += f"/collections/{self.collection_id}"
        if self.record_id is not None:
            uri += f"/records/{self.record_id}"
        return uri

    def wants(self, event: StreamEvent) -> bool:
        if event.bucket_id != self.bucket_id:
            return False
        if self.collection_id is not None and event.collection_id != self.collection_id:
            return False
        if self.record_id is not None and (
            event.resource_name != "record" or event.record_id != self.record_id
        ):
            return False
        if self.actions is not None and event.action not in self.actions:
            return False
        return self.resources is None or event.resource_name in self.resources


def checked_words(name: str, raw: str, accepted: Iterable[str]) -> frozenset[str] | None:
    """The words of a filter parameter (``create,update``); ValueError naming a bad one."""
    accepted = tuple(accepted)
    words = [word for word in raw.replace(",", " ").split() if word]
    for word in words:
        if word not in accepted:
            raise ValueError(f"{name} must be among {', '.join(accepted)}, got {word!r}")
    return frozenset(words) or None
