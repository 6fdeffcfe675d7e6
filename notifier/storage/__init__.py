"""The storage interface that every backend implements.

Objects live under a ``parent_id`` (``""`` for buckets, ``/buckets/b`` for
collections, ``/buckets/b/collections/c`` for records) and a resource name.
notifier's own state lives under ``INTERNAL_PARENT``, outside that space.
A backend hands out one ``Session`` per request: one transaction, committed
or rolled back as a whole.  ``notifier.storage.testing`` is the conformance
suite any backend must pass (docs/storage.md).

Owns the interface, the SQLite and PostgreSQL backends and their schema
migrations.  May import ``notifier.settings``; everything else stands on it.

Never imports: ``notifier.http``, ``notifier.delivery``, ``notifier.listeners``,
``notifier.queue``, ``notifier.worker``, ``notifier.cli``.
"""

from __future__ import annotations

import builtins
import importlib
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol

from notifier.settings import SettingsError, suggestion

#: The parent of notifier's own state (the webhook endpoints a 410 disabled).
#: It does not start with "/", so no URL reaches it and it sorts outside every
#: URI range: the flush (``purge_children("")``, ``delete_permissions("")``)
#: leaves it, as the conformance suite checks.
INTERNAL_PARENT = "__notifier__"


class Op(Enum):
    """Comparison operators of list filters (Kinto's querystring prefixes)."""

    EQ = "eq"
    NOT = "not"
    LT = "lt"
    GT = "gt"
    MIN = "min"
    MAX = "max"
    IN = "in"
    EXCLUDE = "exclude"
    LIKE = "like"
    HAS = "has"


@dataclass(frozen=True)
class Filter:
    """``field <op> value``; ``field`` may be dotted into the object's data."""

    field: str
    op: Op
    value: Any


@dataclass(frozen=True)
class Sort:
    field: str
    descending: bool = False


@dataclass(frozen=True)
class Selection:
    """Which objects of one list, in what order, and how many.

    Objects match all ``filters`` and any one group of ``pagination`` (the
    groups a Next-Page token builds); tombstones only with ``include_deleted``.
    """

    filters: Sequence[Filter] = ()
    sorting: Sequence[Sort] = ()
    pagination: Sequence[Sequence[Filter]] = ()
    limit: int | None = None
    include_deleted: bool = False


EVERYTHING = Selection()


class StorageError(Exception):
    """The backend failed (unreachable, corrupt, locked); the request is 503."""


class ObjectExists(Exception):
    """A create found a live object with the same id."""

    def __init__(self, existing: dict[str, Any]) -> None:
        super().__init__(existing.get("id"))
        self.existing = existing


Permissions = dict[str, set[str]]


@dataclass
class OutboxEntry:
    """One pending delivery: an event's message for one listener."""

    event_id: str
    listener: str
    message: str
    seq: int = 0
    attempts: int = 0
    next_attempt_at: int = 0
    created_at: int = 0
    last_error: str | None = None
    dead: bool = False


@dataclass
class OutboxStats:
    backlog: int
    oldest_created_at: int | None
    dead: int


def leading_due(entries: Sequence[OutboxEntry], now: int) -> list[OutboxEntry]:
    """Of one listener's pending entries in outbox order, those due before the first
    that is not: a listener never gets an event ahead of an earlier one."""
    due = []
    for entry in entries:
        if entry.next_attempt_at > now:
            break
        due.append(entry)
    return due


class OutboxSession(Protocol):
    """The outbox part of a session: pending deliveries, written with the change."""

    def outbox_add(self, entries: Sequence[OutboxEntry]) -> None: ...

    def outbox_claim(
        self, now: int, lease_ms: int, limit: int, listeners: Collection[str] | None = None
    ) -> list[OutboxEntry]:
        """Lease up to ``limit`` due entries per listener (see ``leading_due``), in order.

        ``listeners`` names the listeners to claim for (a relay passes those it
        loaded): another listener's entries stay pending, untouched, for a
        process that has it.  None claims for every listener.
        """

    def outbox_done(self, keys: Sequence[tuple[str, str]]) -> None:
        """Remove delivered entries, by ``(event_id, listener)``."""

    def outbox_retry(self, key: tuple[str, str], error: str, next_attempt_at: int | None) -> None:
        """Count a failed attempt; ``next_attempt_at=None`` dead-letters the entry."""

    def outbox_release(
        self, keys: Sequence[tuple[str, str]], error: str, next_attempt_at: int
    ) -> None:
        """Put leased entries back, due at ``next_attempt_at``, without counting an attempt
        (the target was down: nothing was wrong with the entries)."""

    def outbox_expire(
        self, created_before: int, error: str, listeners: Collection[str] | None = None
    ) -> int:
        """Dead-letter pending entries created before ``created_before``; return how many.

        ``listeners``, as for ``outbox_claim``: only those listeners' entries.
        """

    def outbox_oldest(self) -> dict[str, int]:
        """Per listener, the ``created_at`` of its oldest pending entry."""

    def outbox_stats(self) -> OutboxStats: ...

    def outbox_stats_by_listener(self) -> dict[str, OutboxStats]:
        """``outbox_stats`` per listener that has entries (pending or dead), in one query."""

    def outbox_pending(self, listener: str) -> int:
        """How many entries of ``listener`` wait (dead letters excluded)."""

    def outbox_dead(self, limit: int) -> list[OutboxEntry]: ...

    def outbox_replay(self, listener: str | None, now: int) -> int:
        """Make dead entries (of one listener, or all) pending again; return how many."""

    def outbox_purge(self, listener: str | None) -> int:
        """Delete dead entries (of one listener, or all); return how many."""


class Session(OutboxSession, Protocol):
    """One transaction.  Objects are plain dicts with ``id`` and ``last_modified``."""

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def savepoint(self, name: str) -> None:
        """Mark a point that ``rollback_to`` can return to (a batch subrequest)."""

    def rollback_to(self, name: str) -> None:
        """Undo everything since ``savepoint(name)``, and forget the savepoint."""

    def release(self, name: str) -> None:
        """Keep everything since ``savepoint(name)``, and forget the savepoint."""

    def get(
        self, resource: str, parent_id: str, object_id: str, shared: bool = False
    ) -> dict[str, Any] | None:
        """The live object, or None (tombstones are not returned).

        In a write session the object is locked until the end of the
        transaction: exclusively, or with ``shared`` only against changes, for
        a parent that must not vanish while its children are written.
        """

    def create(self, resource: str, parent_id: str, obj: dict[str, Any]) -> dict[str, Any]:
        """Insert ``obj`` (which carries its ``id``) with a new ``last_modified``.

        Raises ObjectExists when a live object has that id.
        """

    def update(self, resource: str, parent_id: str, obj: dict[str, Any]) -> dict[str, Any]:
        """Replace (or create) the object with ``obj['id']``; new ``last_modified``."""

    def delete(self, resource: str, parent_id: str, object_id: str) -> dict[str, Any]:
        """Replace the object by a tombstone and return it."""

    def purge_children(self, parent_id: str) -> list[tuple[str, str, dict[str, Any]]]:
        """Remove everything below ``parent_id``, tombstones included.

        Below ``""`` is every parent that starts with "/", and no other
        (``INTERNAL_PARENT`` stays).

        Returns ``(resource, parent_id, object)`` for each live object removed,
        parents before children, so a cascade can emit its events.
        """

    def list(
        self,
        resource: str,
        parent_id: str,
        selection: Selection = EVERYTHING,
    ) -> list[dict[str, Any]]:
        """The objects ``selection`` picks, in its order, at most its ``limit``."""

    def list_json(
        self,
        resource: str,
        parent_id: str,
        selection: Selection = EVERYTHING,
    ) -> builtins.list[str]:
        """What ``list`` returns for the same arguments, in the same order, each
        object as JSON text: ``[json.loads(text) for text in list_json(...)]``
        equals ``list(...)``.

        The list views serve these texts as they are when they need nothing of
        the objects themselves (no ``_fields``, no read listeners).  A backend
        that keeps objects as JSON builds the text where it stores them
        (``sql.object_json``), saving a parse and an encode of every object,
        most of the cost of a list page (A/B in bench/notes.md).  One that
        cannot may return ``[json.dumps(obj) for obj in self.list(...)]``.
        """

    def count(self, resource: str, parent_id: str, filters: Sequence[Filter] = ()) -> int: ...

    def timestamp(self, resource: str, parent_id: str) -> int:
        """The highest ``last_modified`` ever given in this list (0 if none)."""

    def get_permissions(self, uri: str) -> Permissions: ...

    def set_permissions(
        self, uri: str, permissions: Mapping[str, set[str]], *, new_object: bool = False
    ) -> None:
        """Replace the permissions of ``uri``.

        ``new_object`` for an object just created: it has none to replace,
        since deleting an object deletes its permissions (``delete_permissions``).
        """

    def delete_permissions(self, uri: str) -> None:
        """Forget the permissions of ``uri`` and of every URI below it."""

    def accessible_ids(
        self,
        parent_uri: str,
        resource_path: str,
        principals: Sequence[str],
        permissions: Sequence[str],
    ) -> set[str]:
        """Ids of the objects at ``parent_uri/resource_path/<id>`` that grant one
        of ``permissions`` to one of ``principals``."""

    def granted(
        self, principals: Sequence[str], permissions: Sequence[str] | None = None
    ) -> Permissions:
        """Every URI where one of ``principals`` holds a permission (of
        ``permissions``, or any), with the permissions it holds there."""


class Storage(Protocol):
    """A backend: hands out sessions and says whether it is healthy."""

    def session(self, write: bool) -> Session:
        """Begin a transaction; ``write`` takes the write lock up front."""

    def healthy(self) -> bool: ...

    def wait_for_outbox(self, timeout: float) -> bool:
        """Block up to ``timeout`` seconds, returning early (True) when outbox
        entries may have become due; the relay calls it between rounds.

        A backend that cannot tell (SQLite) just sleeps and returns False, and
        the relay polls; PostgreSQL wakes on LISTEN/NOTIFY.
        """

    def close(self) -> None: ...


@contextmanager
def transaction(storage: Storage, write: bool = True) -> Iterator[Session]:
    """Run a block in one transaction: commit on success, roll back on error."""
    session = storage.session(write=write)
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    session.commit()


def load_storage(settings: Mapping[str, Any]) -> Storage:
    """Build the backend named by ``notifier.storage_backend``."""
    key = "notifier.storage_backend"
    name = str(settings[key])
    known = ["notifier.storage.sqlite", "notifier.storage.postgresql"]
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name is None or not name.startswith(error.name):
            raise
        raise SettingsError(
            key, f"no such module; accepted: {', '.join(known)}{suggestion(name, known)}", name
        ) from None
    factory = getattr(module, "load_from_settings", None)
    if not callable(factory):
        raise SettingsError(key, "module has no load_from_settings(settings) function", name)
    storage: Storage = factory(settings)
    return storage
