"""Copy SQLite's write-ahead log back into the database file from a thread of its own.

By default SQLite checkpoints inside the COMMIT that takes the log past 1,000
pages: one create in about eighty then copied the log and synced the file
twice, and on average every create paid about 100 us for it, all while
holding the write lock (bench/, issue #7).  Here a daemon thread runs a
PASSIVE checkpoint every ``interval`` seconds, which neither waits for nor
blocks readers and writers, and runs with the GIL released, so on another
core.  Connections keep SQLite's own checkpoint as a backstop at
``BACKSTOP_PAGES``, should this thread fall behind or not run at all.
"""

from __future__ import annotations

import logging
import sqlite3
import threading

log = logging.getLogger(__name__)

#: The log size (pages) at which a committing connection checkpoints itself.
BACKSTOP_PAGES = 10_000


class Checkpointer:
    """Checkpoints one database file every ``interval`` seconds, once started."""

    def __init__(self, path: str, interval: float = 0.1) -> None:
        self.path = path
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the thread unless it runs already; cheap to call on every write."""
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(
                    target=self._run, name="notifier-sqlite-checkpoint", daemon=True
                )
                self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join(timeout=5)

    def _run(self) -> None:
        connection = sqlite3.connect(self.path, isolation_level=None, timeout=0)
        try:
            while not self._stop.wait(self.interval):
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                except sqlite3.Error as error:
                    # A checkpoint that cannot run now runs next round, or the backstop does.
                    log.warning("sqlite checkpoint of %s failed: %s", self.path, error)
        finally:
            connection.close()
