"""The shared backend: PostgreSQL through a psycopg connection pool.

Several app servers and relays share one database, so nothing is
serialised by a global lock as in SQLite.  Instead:

- ``last_modified`` comes from an upsert of the list's ``timestamps`` row,
  ``GREATEST(now, previous + 1)``, which row-locks it until the transaction
  ends: writers to one list take turns, their timestamps strictly increase
  and commit in that order, so a reader's ``_since`` never skips a write.
- In a write session ``get`` reads with ``FOR UPDATE``, so a request's
  read-then-write (``If-Match``, "does the bucket exist") cannot interleave
  with another writer of that object; views read parents before children,
  which keeps the lock order the same everywhere.
- Read sessions are REPEATABLE READ: list, count and timestamp of a request
  see one snapshot, as SQLite's deferred transaction does.

Waiting for a free connection is bounded by the pool timeout and then fails
as a StorageError (503), never a deadlock.  Modules: ``transaction`` (the
pooled connection of a session), ``session`` (objects and permissions),
``conditions`` (JSONB filters), ``outbox`` (pending deliveries, claimed by
several relays at once), ``listen`` (waking relays), ``schema`` (versions
and migrations).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from notifier.settings import Section, SettingsError
from notifier.storage import StorageError
from notifier.storage.postgresql import schema
from notifier.storage.postgresql.listen import OutboxWaiter
from notifier.storage.postgresql.outbox import channel as outbox_channel
from notifier.storage.postgresql.session import PostgreSQLSession
from notifier.storage.postgresql.transaction import (
    DRIVER_ERRORS,
    check_idle_connection,
    describe,
)

__all__ = ["PostgreSQLSession", "PostgreSQLStorage", "load_from_settings", "migrate_from_settings"]

log = logging.getLogger(__name__)

URL_SCHEMES = ("postgresql://", "postgres://")
POOL_TIMEOUT = 10.0  # seconds a request waits for a free connection


class PostgreSQLStorage:
    """Sessions on a pool of connections to one PostgreSQL database.

    Refuses to start (StorageError) when the server is unreachable or the
    schema is not the one this code knows; the message names the command.
    """

    def __init__(self, conninfo: str, pool_size: int = 10, timeout: float = POOL_TIMEOUT) -> None:
        self.name = describe(conninfo)
        self.pool_size = pool_size
        self.timeout = timeout
        with connect(conninfo, timeout) as connection:
            schema.require_current(connection, self.name)
            self.channel = outbox_channel(schema.current_schema(connection))
        self.pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            conninfo,
            min_size=1,
            max_size=pool_size,
            timeout=timeout,
            kwargs={"autocommit": True},
            check=check_idle_connection,
            name="notifier",
            open=False,
        )
        self.pool.open()
        self.waiter = OutboxWaiter(conninfo, self.name, timeout, self.channel)

    def acquire(self) -> psycopg.Connection[Any]:
        try:
            return self.pool.getconn()
        except PoolTimeout as error:
            raise StorageError(
                f"{self.name}: no free connection after {self.timeout:g}s"
                f" (notifier.storage_pool_size = {self.pool_size})"
            ) from error
        except DRIVER_ERRORS as error:
            raise StorageError(f"{self.name}: {error}") from error

    def release(self, connection: psycopg.Connection[Any]) -> None:
        self.pool.putconn(connection)

    def session(self, write: bool) -> PostgreSQLSession:
        return PostgreSQLSession(self, write)

    def healthy(self) -> bool:
        """Ping through the pool: a full pool counts as unhealthy, and says so."""
        try:
            with self.pool.connection() as connection:
                connection.execute("SELECT 1")
        except (*DRIVER_ERRORS, PoolTimeout) as error:
            log.warning("%s: health check failed: %s", self.name, error)
            return False
        return True

    def wait_for_outbox(self, timeout: float) -> bool:
        """Wait on LISTEN for new due entries; see ``listen``."""
        return self.waiter.wait(timeout)

    def close(self) -> None:
        self.waiter.close()
        self.pool.close()


def connect(conninfo: str, timeout: float = POOL_TIMEOUT) -> psycopg.Connection[Any]:
    """One autocommit connection outside the pool; StorageError when unreachable."""
    try:
        return psycopg.connect(conninfo, autocommit=True, connect_timeout=max(1, int(timeout)))
    except DRIVER_ERRORS as error:
        raise StorageError(f"{describe(conninfo)}: cannot connect: {error}") from error


def _read_settings(settings: Mapping[str, Any]) -> tuple[str, int]:
    core = Section(settings, "notifier.")
    url = core.str("storage_url")
    if not url.startswith(URL_SCHEMES):
        raise SettingsError(
            core.key("storage_url"),
            "expected a postgresql://user:password@host:port/dbname URL"
            " for notifier.storage.postgresql",
            url,
        )
    return url, core.int("storage_pool_size", 10, minimum=1)


def load_from_settings(settings: Mapping[str, Any]) -> PostgreSQLStorage:
    """``notifier.storage_url`` (postgresql://...) and ``notifier.storage_pool_size``."""
    url, pool_size = _read_settings(settings)
    return PostgreSQLStorage(url, pool_size)


def migrate_from_settings(settings: Mapping[str, Any]) -> list[str]:
    """Bring the schema to the latest version; lines telling what was done."""
    url, _ = _read_settings(settings)
    with connect(url) as connection:
        applied = schema.upgrade(connection)
        version = schema.installed_version(connection)
    done = [f"applied {m.version:04d}_{m.name}" for m in applied]
    return [*done, f"{describe(url)}: schema version {version}, the latest"]
