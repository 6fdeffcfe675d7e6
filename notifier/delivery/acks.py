"""Delivered outbox entries, removed by the next write instead of a transaction of their own.

After a listener took a request's events, their outbox rows must go.  A
write transaction just for that doubled the writes of every request, and on
SQLite every writer waits for the one write lock: under load a request spent
more time queuing for that second lock than doing its own work.  So the keys
of delivered entries wait here, and the next write transaction of this
process deletes them along with its own changes (``Dispatcher.before_commit``).
When no write comes, a short-lived thread deletes them after ``delay`` seconds,
and a process that exits deletes them first.

The guarantees are the outbox's: an entry waiting here is delivered and
still leased, so the relay does not take it (the lease, 30 s by default, is
far longer than ``delay``).  If the process dies, or the write that carried
the deletes rolls back, the entries stay until the lease ends and the relay
delivers them again: at-least-once, as when the deleting transaction failed
before.  ``delay = 0`` deletes in a transaction of its own, right away.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections.abc import Sequence

from notifier.storage import Session, Storage, transaction

log = logging.getLogger(__name__)

Key = tuple[str, str]


class PendingAcks:
    """Keys (event_id, listener) of delivered entries not yet deleted from the outbox."""

    def __init__(self, storage: Storage, delay: float) -> None:
        self.storage = storage
        self.delay = delay
        self._lock = threading.Lock()
        self._keys: list[Key] = []
        self._flusher: threading.Thread | None = None

    def add(self, keys: Sequence[Key]) -> None:
        """Note delivered entries; they leave the outbox with the next write, or soon."""
        if not keys:
            return
        if self.delay <= 0:
            self._delete(list(keys))
            return
        with self._lock:
            self._keys.extend(keys)
            if self._flusher is None:
                # A stopping process deletes what waits, so a restart does not
                # send those events again once their lease ends.
                atexit.register(self.flush)
                self._flusher = threading.Thread(
                    target=self._flush_while_waiting, name="notifier-outbox-acks", daemon=True
                )
                self._flusher.start()

    def take(self) -> list[Key]:
        with self._lock:
            keys, self._keys = self._keys, []
        return keys

    def delete_in(self, session: Session) -> None:
        """Delete the waiting entries inside ``session``'s write transaction."""
        keys = self.take()
        if keys:
            session.outbox_done(keys)

    def flush(self) -> int:
        """Delete the waiting entries now, in a transaction of their own."""
        keys = self.take()
        if keys:
            self._delete(keys)
        return len(keys)

    def _delete(self, keys: list[Key]) -> None:
        try:
            with transaction(self.storage) as session:
                session.outbox_done(keys)
        except Exception:
            # The entries stay leased; the relay takes them over when the lease ends.
            log.exception("could not remove %d delivered entries from the outbox", len(keys))

    def _flush_while_waiting(self) -> None:
        """Flush every ``delay`` seconds; stop after a round with nothing to flush."""
        while True:
            time.sleep(self.delay)
            with self._lock:
                if not self._keys:
                    self._flusher = None
                    atexit.unregister(self.flush)
                    return
            self.flush()
