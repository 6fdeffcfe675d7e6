"""The record of a request's changes, and the commit hooks that deliver them.

A view records each object it changed as a ``Change`` on the request's
``RequestTransaction``.  Whoever owns the transaction (the HTTP tween) calls
the hooks around the commit: ``BeforeCommit`` (the dispatcher writes the
outbox entries, inside the transaction) and ``AfterCommit`` (it delivers
them).  Nothing here knows about Pyramid: the request is whatever the caller
passes, and rides along on the events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from notifier.storage import Session

if TYPE_CHECKING:
    from notifier.delivery.dispatcher import Delivery
    from notifier.delivery.events import ResourceChanged

#: Where a request's environ keeps its ``RequestTransaction``.
ENVIRON_KEY = "notifier.transaction"


@dataclass
class Change:
    """One object changed (or read) by the request: what an event will be made of."""

    action: str
    resource_name: str
    uri: str
    parents: dict[str, str]
    old: dict[str, Any] | None
    new: dict[str, Any]
    user_id: str | None

    @classmethod
    def make(
        cls,
        action: str,
        resource_name: str,
        parent_uri: str,
        old: dict[str, Any] | None,
        new: dict[str, Any],
        user_id: str | None,
    ) -> Change:
        parts = parent_uri.strip("/").split("/") if parent_uri else []
        parents = {
            f"{kind[:-1]}_id": value for kind, value in zip(parts[::2], parts[1::2], strict=True)
        }
        uri = f"{parent_uri}/{resource_name}s/{new['id']}"
        return cls(action, resource_name, uri, parents, old, new, user_id)


@dataclass
class RequestTransaction:
    """One request's storage session, the changes it made, and what is due after commit.

    ``request_id`` goes into the payload of each event the changes make, so a
    queue's consumer, a webhook's receiver or a retry's log line leads back
    to the request.
    """

    session: Session
    request_id: str | None = None
    changes: list[Change] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    #: (listener, events) the dispatcher routed, for its observers after commit.
    routed: list[tuple[str, list[ResourceChanged]]] = field(default_factory=list)


def current(request: Any) -> RequestTransaction:
    """The transaction of this request (or of the batch it belongs to)."""
    state: RequestTransaction = request.environ[ENVIRON_KEY]
    return state


@dataclass
class BeforeCommit:
    """Notified inside the transaction, once the response is known to be a success."""

    request: Any
    transaction: RequestTransaction


@dataclass
class AfterCommit:
    """Notified once the transaction committed."""

    request: Any
    transaction: RequestTransaction
