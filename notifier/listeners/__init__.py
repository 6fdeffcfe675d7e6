"""The listener contract, for listener modules, and the built-in listeners.

A listener module exposes ``load_from_config(config, prefix)``, which reads
its settings under ``prefix`` (for example
``notifier.event_listeners.redis.``) and returns a listener: usually an
instance of a ``ListenerBase`` subclass that implements ``__call__(event)``.
A module may declare the keys it reads as ``SETTINGS_KEYS``; then any other
key under its prefix stops the start with a "did you mean".  The dispatcher
applies the filter settings (``actions``, ``resources``, ``buckets``,
``collections``, ``ids``), so a listener only ever sees events it wants.

Owns the listeners shipped with notifier (log, redis, stream, email); the
contract itself (``Listener``, ``ListenerBase``) lives in
``notifier.delivery.contract`` and is re-exported here: listeners depend on
the delivery core, never the other way round.  May import
``notifier.delivery``'s event, contract and outcome types, ``notifier.queue``
and ``notifier.settings``.

Never imports: ``notifier.http``, ``notifier.worker``, ``notifier.cli``.
"""

from __future__ import annotations

from notifier.delivery.contract import Listener, ListenerBase, ListenerFactory
from notifier.delivery.events import ResourceChanged
from notifier.delivery.outcomes import Rejected, Unavailable


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
