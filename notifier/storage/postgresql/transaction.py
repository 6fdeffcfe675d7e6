"""A transaction on a pooled connection: begin lazily, map driver errors, give back.

The connection is taken at the first statement, so a request that never
reads (server info, heartbeat) holds none, and given back at commit or
rollback.  Every driver error that means "the database is unreachable or
refused" becomes a StorageError, which the app turns into a 503.
"""

from __future__ import annotations

import logging
import select
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict
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


class Transaction:
    """One transaction on one pooled connection, taken at the first statement.

    The base of the session: its subclasses add methods that call ``_execute``.
    Savepoints live here too: a batch runs each subrequest in one.
    """

    def __init__(self, storage: PostgreSQLStorage, write: bool) -> None:
        self.storage = storage
        self.write = write
        self._connection: psycopg.Connection[Any] | None = None

    def _begin(self) -> psycopg.Connection[Any]:
        if self._connection is None:
            connection = self.storage.acquire()
            begin = "BEGIN" if self.write else "BEGIN ISOLATION LEVEL REPEATABLE READ"
            try:
                connection.execute(begin)
            except DRIVER_ERRORS as error:
                self.storage.release(connection)
                raise StorageError(f"{self.storage.name}: {error}") from error
            self._connection = connection
        return self._connection

    def _execute(
        self, query: str | sql.Composed, params: Sequence[Any] | Mapping[str, Any] = ()
    ) -> psycopg.Cursor[Any]:
        connection = self._begin()
        try:
            return connection.execute(query, params)
        except DRIVER_ERRORS as error:
            raise StorageError(f"{self.storage.name}: {error}") from error

    def _end(self, statement: str) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            connection.execute(statement)
        finally:
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
        self._execute(sql.SQL("SAVEPOINT {}").format(sql.Identifier(name)))

    def rollback_to(self, name: str) -> None:
        self._execute(sql.SQL("ROLLBACK TO SAVEPOINT {}").format(sql.Identifier(name)))
        self.release(name)

    def release(self, name: str) -> None:
        self._execute(sql.SQL("RELEASE SAVEPOINT {}").format(sql.Identifier(name)))
