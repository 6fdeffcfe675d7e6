"""The app's state: one typed object on the registry, ``registry.notifier``.

Each part of the app fills in its own fields while it is included (the
storage first, then the delivery core), and the directives add heartbeats,
capabilities and listeners when the configuration commits.  Importing this
module imports no Pyramid.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from notifier.delivery.observers import Observers

if TYPE_CHECKING:
    from notifier.delivery.dispatcher import Dispatcher
    from notifier.delivery.loader import LoadedListener
    from notifier.delivery.relay import Relay
    from notifier.storage import Storage

#: A heartbeat check: takes the request, returns a bool or a dict with ``ok``.
HealthCheck = Callable[[Any], Any]


@dataclass(frozen=True)
class Heartbeat:
    """A registered check; ``threaded`` ones (network calls) run beside the request,
    bounded by ``notifier.heartbeat.timeout``, so a stalled target holds nothing up."""

    check: HealthCheck
    threaded: bool = False


class StateError(RuntimeError):
    """A part of the app asked for state that was never set up."""


@dataclass
class NotifierState:
    """Everything the app set up and must stop again (see ``notifier.shutdown``)."""

    storage: Storage
    dispatcher_: Dispatcher | None = None
    relay_: Relay | None = None
    relay_interval: float = 1.0
    relay_in_process: bool = True
    relay_stop: threading.Event | None = None
    relay_thread: threading.Thread | None = None
    #: Every listener loaded, registered or not yet: ``shutdown`` closes them all.
    opened: list[LoadedListener] = field(default_factory=list)
    closed: bool = False
    listeners: list[LoadedListener] = field(default_factory=list)
    heartbeats: dict[str, Heartbeat] = field(default_factory=dict)
    heartbeat_timeout: float = 1.0
    heartbeat_pool: ThreadPoolExecutor | None = None
    capabilities: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Told what the dispatcher and the relay deliver (``config.add_delivery_observer``).
    observers: Observers = field(default_factory=Observers)

    @property
    def dispatcher(self) -> Dispatcher:
        return _required(self.dispatcher_, "dispatcher", "notifier.delivery.setup")

    @property
    def relay(self) -> Relay:
        return _required(self.relay_, "relay", "notifier.delivery.setup")

    def heartbeat_threads(self) -> ThreadPoolExecutor:
        """The threads that run network heartbeats, made on first use."""
        if self.heartbeat_pool is None:
            self.heartbeat_pool = ThreadPoolExecutor(4, thread_name_prefix="notifier-heartbeat")
        return self.heartbeat_pool

    @property
    def reads_wanted(self) -> bool:
        """Does any listener want read events (``actions = read``)?"""
        return any(loaded.wants_reads for loaded in self.listeners)


def _required(value: Any, what: str, include: str) -> Any:
    if value is None:
        raise StateError(f"no {what} is set up: include {include} first")
    return value


def state_of(registry: Any) -> NotifierState:
    """The registry's ``notifier`` state; StateError before ``notifier.includeme`` ran."""
    state = getattr(registry, "notifier", None)
    if not isinstance(state, NotifierState):
        raise StateError("registry.notifier is not set up: include notifier first")
    return state
