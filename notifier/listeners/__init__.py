"""The listener contract.

A listener module exposes ``load_from_config(config, prefix)``, which reads
its settings under ``prefix`` (for example
``notifier.event_listeners.redis.``) and returns a callable that takes one
event: usually an instance of a ``ListenerBase`` subclass.  The dispatcher
applies the filter settings (``actions``, ``resources``, ``buckets``,
``collections``, ``ids``), so a listener only ever sees events it wants.

Owns the contract (this module) and the listeners shipped with notifier
(log, redis, stream, email).  May import ``notifier.delivery``'s event and
outcome types, ``notifier.queue`` and ``notifier.settings``.

Never imports: ``notifier.http``, ``notifier.worker``, ``notifier.cli``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from notifier.delivery.events import ResourceChanged
from notifier.delivery.outcomes import Rejected, Unavailable


@runtime_checkable
class Listener(Protocol):
    """What the dispatcher calls: anything that takes one event."""

    def __call__(self, event: ResourceChanged) -> None: ...


class ListenerFactory(Protocol):
    """The module-level ``load_from_config`` of a listener module."""

    def __call__(self, config: Any, prefix: str) -> Listener: ...


class ListenerBase:
    """Base class for listeners: implement ``__call__(event)``.

    Override ``deliver`` when several events of one request can be sent in
    one round trip; it must raise if any of them was not delivered, so the
    outbox keeps them for a retry.  Override ``close`` to release clients.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __call__(self, event: ResourceChanged) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement __call__(event)")

    def deliver(self, events: Sequence[ResourceChanged]) -> None:
        """Deliver the events of one request, in order."""
        for event in events:
            self(event)

    def close(self) -> None:
        """Release what the listener holds (connection pools, sockets)."""


def listener_name(prefix: str) -> str:
    """``notifier.event_listeners.redis.`` -> ``redis``: the INI name, for log lines."""
    return prefix.rstrip(".").rsplit(".", 1)[-1]


__all__ = [
    "Listener",
    "ListenerBase",
    "ListenerFactory",
    "Rejected",
    "ResourceChanged",
    "Unavailable",
    "listener_name",
]
