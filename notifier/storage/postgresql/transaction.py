"""A transaction on a pooled connection: begin lazily, map driver errors, give back.

The connection is taken at the first statement, so a request that never
reads (server info, heartbeat) holds none, and given back at commit or
rollback.  Every driver error that means "the database is unreachable or
refused" becomes a StorageError, which the app turns into a 503.

Round trips and statements, not rows, are what a request pays for, so
statements travel together: ``BEGIN`` goes with the first statement, and a
statement whose result nobody reads (``_send``: an insert of permissions
or outbox rows, a delete, a lock) waits in the session and goes with the
next one that is read (``_execute``) or with ``COMMIT``.  Statements that
travel together are one simple query, bound client-side by psycopg
(``ClientCursor.mogrify``); the server runs them in order, in the one
transaction, and an error in any of them is raised by that ``_execute`` or
``commit``, which rolls back as before.  A transaction of one sent
statement (a delete of delivered outbox rows) runs it alone, atomic
without ``BEGIN`` and ``COMMIT``; a rollback before anything was sent
sends nothing.  (psycopg's pipeline mode sends as few round trips but cost
more CPU per statement than it saved: bench/notes.md.)
"""

from __future__ import annotations

import logging
import select
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict
from psycopg.pq import TransactionStatus
from psycopg_pool import ConnectionPool

from notifier.storage import StorageError

if TYPE_CHECKING:
    from notifier.storage.postgresql import PostgreSQLStorage

log = logging.getLogger(__name__)

#: Lost connections, full pool, deadlocks, serialization failures, timeouts.
DRIVER_ERRORS = (psycopg.OperationalError, psycopg.InterfaceError)


def describe(conninfo: str) -> str:
    """``host:port/dbname`` of a connection string, without its password."""
    try:
        parts = conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError:
        return "postgresql"
    host = parts.get("host") or "localhost"
    return f"postgresql {host}:{parts.get('port') or 5432}/{parts.get('dbname') or ''}"


def check_idle_connection(connection: psycopg.Connection[Any]) -> None:
    """The pool's check at each checkout, without a round trip when nothing is wrong.

    A connection back in the pool has read every reply, so its socket has
    nothing to read unless the server spoke since: it closed the connection
    (a restart, ``pg_terminate_backend``, an idle timeout) or sent a notice.
    Only then is the connection pinged (psycopg_pool's own check, which
    raises if it is gone, and the pool takes another).  A ping at every
    checkout cost each request a round trip.
    """
    readable, _, _ = select.select([connection.fileno()], [], [], 0)
    if readable:
        ConnectionPool.check_connection(connection)


#: A statement and its parameters, waiting to travel with the next round trip.
Statement = tuple["str | sql.Composed", "Sequence[Any] | Mapping[str, Any]"]


def _end_failed_transaction(connection: psycopg.Connection[Any]) -> None:
    """Roll back what a failed statement left open, before the pool takes the connection.

    When one statement of several sent together fails, the server skips
    the rest, the ``COMMIT`` too: the transaction is still open (and failed).
    """
    if connection.broken or connection.info.transaction_status == TransactionStatus.IDLE:
        return
    try:
        connection.execute("ROLLBACK")
    except DRIVER_ERRORS as error:
        log.warning("rollback failed: %s", error)


class Transaction:
    """One transaction on one pooled connection, taken at the first statement.

    The base of the session: its subclasses add methods that call ``_execute``.
    Savepoints live here too: a batch runs each subrequest in one.
    """

    def __init__(self, storage: PostgreSQLStorage, write: bool) -> None:
        self.storage = storage
        self.write = write
        self._connection: psycopg.Connection[Any] | None = None
        self._begun = False  # BEGIN has reached the server
        self._pending: list[Statement] = []

    def _connect(self) -> psycopg.Connection[Any]:
        if self._connection is None:
            self._connection = self.storage.acquire()
            self._begun = False
        return self._connection

    def _send(
        self, query: str | sql.Composed, params: Sequence[Any] | Mapping[str, Any] = ()
    ) -> None:
        """Run a statement whose result is not read, with the next round trip."""
        self._connect()
        self._pending.append((query, params))

    def _execute(
        self, query: str | sql.Composed, params: Sequence[Any] | Mapping[str, Any] = ()
    ) -> psycopg.Cursor[Any]:
        """Run a statement, and everything waiting before it, in one round trip."""
        connection = self._connect()
        try:
            if self._begun and not self._pending:
                return connection.execute(query, params)
            return self._run_together(connection, [*self._opening(), (query, params)])
        except DRIVER_ERRORS as error:
            raise StorageError(f"{self.storage.name}: {error}") from error

    def _opening(self) -> list[Statement]:
        """``BEGIN`` if it has not been sent, then the statements waiting; none wait after."""
        begin: list[Statement] = []
        if not self._begun:
            isolation = "" if self.write else " ISOLATION LEVEL REPEATABLE READ"
            begin.append(("BEGIN" + isolation, ()))
            self._begun = True
        pending, self._pending = self._pending, []
        return [*begin, *pending]

    @staticmethod
    def _run_together(
        connection: psycopg.Connection[Any], statements: Sequence[Statement]
    ) -> psycopg.Cursor[Any]:
        """One simple query of ``statements``; the cursor is on the last one's result."""
        cursor = psycopg.ClientCursor(connection)
        cursor.execute("; ".join(cursor.mogrify(query, params) for query, params in statements))
        while cursor.nextset():
            pass
        return cursor

    def _end(self, statement: str) -> None:
        """Send what waits with ``statement`` (COMMIT or ROLLBACK); give the connection back."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            if not self._begun:
                pending, self._pending = self._pending, []
                if statement == "COMMIT" and len(pending) == 1:
                    connection.execute(*pending[0])  # one statement is atomic on its own
                elif statement == "COMMIT" and pending:
                    self._run_together(connection, [*self._opening(), *pending, (statement, ())])
                # ROLLBACK before anything reached the server: nothing to undo.
            elif self._pending:
                self._run_together(connection, [*self._opening(), (statement, ())])
            else:
                connection.execute(statement)
        finally:
            self._pending = []
            _end_failed_transaction(connection)
            self.storage.release(connection)

    def commit(self) -> None:
        try:
            self._end("COMMIT")
        except DRIVER_ERRORS as error:
            raise StorageError(f"{self.storage.name}: commit failed: {error}") from error

    def rollback(self) -> None:
        """Roll back; a connection already broken has lost the transaction anyway."""
        try:
            self._end("ROLLBACK")
        except DRIVER_ERRORS as error:
            log.warning("%s: rollback failed: %s", self.storage.name, error)

    def savepoint(self, name: str) -> None:
        self._send(sql.SQL("SAVEPOINT {}").format(sql.Identifier(name)))

    def rollback_to(self, name: str) -> None:
        self._send(sql.SQL("ROLLBACK TO SAVEPOINT {}").format(sql.Identifier(name)))
        self.release(name)

    def release(self, name: str) -> None:
        """Forget the savepoint; an error of a statement sent since it is raised here."""
        self._execute(sql.SQL("RELEASE SAVEPOINT {}").format(sql.Identifier(name)))
