"""The listener contract: what the dispatcher calls, as a typed Protocol, checked at load.

A listener module's ``load_from_config(config, prefix)`` returns a listener.
Kinto's listeners implement only ``__call__(event)``; ``ListenerBase``
supplies the rest.  ``checked_listener`` runs when the listener loads, so a
listener that gets the contract wrong stops the start with its name and what
is wrong, instead of failing on its first event.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from notifier.delivery.events import ResourceChanged
from notifier.delivery.filters import EventFilter

#: What a heartbeat reports: a bool, a dict with ``ok``, or None for nothing to report.
HeartbeatResult = bool | dict[str, Any] | None


@runtime_checkable
class Listener(Protocol):
    """Everything the dispatcher, the relay and the app call on a listener."""

    #: Narrows the INI's filter (``&``); None leaves it as it is.
    event_filter: EventFilter | None

    def __call__(self, event: ResourceChanged) -> None:
        """Deliver one event; raise if it was not delivered."""

    def deliver(self, events: Sequence[ResourceChanged]) -> None:
        """Deliver the events of one request (or relay round) in order; raise if any failed."""

    def close(self) -> None:
        """Release what the listener holds (connection pools, sockets)."""

    def heartbeat(self) -> HeartbeatResult:
        """For ``/v1/__heartbeat__`` under the listener's name; None reports nothing."""

    def timeouts(self) -> Mapping[str, float]:
        """The full INI keys and seconds that bound one delivery (checked against the lease)."""


class ListenerFactory(Protocol):
    """The module-level ``load_from_config`` of a listener module."""

    def __call__(self, config: Any, prefix: str) -> Any: ...


class ListenerBase:
    """Base class for listeners: implement ``__call__(event)``; the rest has defaults.

    Override ``deliver`` when several events can be sent in one round trip;
    it must raise if any of them was not delivered, so the outbox keeps them
    for a retry.  Override ``close`` to release clients, ``heartbeat`` to
    report the target's health, ``timeouts`` to declare what bounds a delivery.
    """

    event_filter: EventFilter | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __call__(self, event: ResourceChanged) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement __call__(event)")

    def deliver(self, events: Sequence[ResourceChanged]) -> None:
        for event in events:
            self(event)

    def close(self) -> None:
        pass

    def heartbeat(self) -> HeartbeatResult:
        return None

    def timeouts(self) -> Mapping[str, float]:
        return {}


class Adapted(ListenerBase):
    """A listener that keeps only part of the contract (a function, a Kinto-style
    class): its own members where it has them, ``ListenerBase``'s defaults elsewhere."""

    def __init__(self, target: Callable[[ResourceChanged], Any]) -> None:
        self.target = target
        self.event_filter = getattr(target, "event_filter", None)

    def __call__(self, event: ResourceChanged) -> None:
        self.target(event)

    def deliver(self, events: Sequence[ResourceChanged]) -> None:
        own = getattr(self.target, "deliver", None)
        if own is None:
            super().deliver(events)
        else:
            own(events)

    def close(self) -> None:
        own = getattr(self.target, "close", None)
        if own is not None:
            own()

    def heartbeat(self) -> HeartbeatResult:
        own = getattr(self.target, "heartbeat", None)
        return own() if own is not None else None

    def timeouts(self) -> Mapping[str, float]:
        own = getattr(self.target, "timeouts", None)
        return own() if own is not None else {}

    def __repr__(self) -> str:
        return f"<Adapted {self.target!r}>"


def reports_health(listener: Listener) -> bool:
    """Does ``listener`` have a heartbeat of its own (not ``ListenerBase``'s None)?"""
    if isinstance(listener, Adapted):
        return callable(getattr(listener.target, "heartbeat", None))
    return getattr(type(listener), "heartbeat", None) is not ListenerBase.heartbeat


#: Each method of the contract, and the arguments it is called with.
METHODS: dict[str, tuple[str, ...]] = {
    "__call__": ("event",),
    "deliver": ("events",),
    "close": (),
    "heartbeat": (),
    "timeouts": (),
}


class ContractError(TypeError):
    """A listener does not keep the contract; the message says what is wrong."""


def _check_signature(function: Any, what: str, arguments: tuple[str, ...]) -> None:
    if not callable(function):
        raise ContractError(f"{what} is a {type(function).__name__}, not a method")
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return  # a builtin without a signature: trust it
    try:
        signature.bind(*arguments)
    except TypeError as error:
        wanted = ", ".join(arguments)
        raise ContractError(f"{what} must accept ({wanted}): {error}") from None


def checked_listener(candidate: Any) -> Listener:
    """``candidate`` as a Listener, or ContractError saying what is wrong.

    A candidate that lacks part of the contract gets ``ListenerBase``'s
    defaults around it; each member it has must have the right shape.
    """
    if not callable(candidate):
        raise ContractError(
            f"load_from_config returned {type(candidate).__name__}, not a listener"
            " (a callable taking the event)"
        )
    for name, arguments in METHODS.items():
        if hasattr(candidate, name):
            _check_signature(getattr(candidate, name), f"{name}()", arguments)
    listener = candidate
    if not all(hasattr(candidate, name) for name in (*METHODS, "event_filter")):
        listener = Adapted(candidate)
    own = getattr(listener, "event_filter", None)
    if own is not None and not isinstance(own, EventFilter):
        raise ContractError(
            f"event_filter is a {type(own).__name__}, not a notifier.delivery.filters.EventFilter"
        )
    if not isinstance(listener, Listener):
        raise ContractError("does not keep the Listener protocol")
    return listener
