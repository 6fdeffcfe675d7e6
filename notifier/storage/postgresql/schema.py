"""The PostgreSQL schema version: what is installed, what this code knows, and the upgrade.

Only ``notifier migrate`` calls ``upgrade``; the app calls ``require_current``
and refuses to start on an empty, older or newer schema, because a database
shared by several processes must not change under them on some request.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from dataclasses import dataclass
from typing import Any

import psycopg

from notifier.storage import StorageError
from notifier.storage.migrations import postgresql as migrations_package

VERSION_TABLE = "notifier_schema_migrations"
COMMAND = "notifier migrate <your .ini>"

#: pg_advisory_xact_lock key, so two migrate commands run one after the other.
_LOCK_KEY = 0x6E6F746966  # "notif"
_MODULE_NAME = re.compile(r"^v(\d{4})_(\w+)$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def available() -> list[Migration]:
    """The migrations this code ships, in order; their versions are 1..n."""
    found = []
    for info in pkgutil.iter_modules(migrations_package.__path__):
        match = _MODULE_NAME.match(info.name)
        if match is None:
            continue
        module = importlib.import_module(f"{migrations_package.__name__}.{info.name}")
        found.append(Migration(int(match[1]), match[2], module.SQL))
    found.sort(key=lambda migration: migration.version)
    versions = [migration.version for migration in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"{migrations_package.__name__}: versions must be 1..n, got {versions}")
    return found


def latest_version() -> int:
    return len(available())


def installed_version(connection: psycopg.Connection[Any]) -> int:
    """The schema version in the connection's search_path; 0 for an empty database."""
    row = connection.execute("SELECT to_regclass(%s)", (VERSION_TABLE,)).fetchone()
    if row is None or row[0] is None:
        return 0
    row = connection.execute(f"SELECT coalesce(max(version), 0) FROM {VERSION_TABLE}").fetchone()
    return int(row[0]) if row else 0


def current_schema(connection: psycopg.Connection[Any]) -> str:
    """The schema notifier's tables are created in and read from (the search path's first)."""
    row = connection.execute("SELECT current_schema()").fetchone()
    return str(row[0]) if row and row[0] else "public"


def require_current(connection: psycopg.Connection[Any], where: str) -> None:
    """Raise StorageError, naming the command to run, unless the schema is the latest."""
    version, latest = installed_version(connection), latest_version()
    if version == latest:
        return
    if version == 0:
        problem = "the database has no notifier schema; create it with"
    elif version < latest:
        problem = f"schema version {version} is older than this notifier's {latest}; upgrade with"
    else:
        raise StorageError(
            f"{where}: schema version {version} is newer than this notifier knows"
            f" ({latest}); run a newer notifier"
        )
    raise StorageError(f"{where}: {problem}: {COMMAND}")


def upgrade(connection: psycopg.Connection[Any]) -> list[Migration]:
    """Apply the missing migrations in one transaction; return those applied."""
    with connection.transaction():
        connection.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        connection.execute(
            f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
            " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        version, migrations = installed_version(connection), available()
        if version > len(migrations):
            raise StorageError(
                f"schema version {version} is newer than this notifier knows"
                f" ({len(migrations)}); run a newer notifier"
            )
        pending = migrations[version:]
        for migration in pending:
            connection.execute(migration.sql)
            connection.execute(
                f"INSERT INTO {VERSION_TABLE} (version, name) VALUES (%s, %s)",
                (migration.version, migration.name),
            )
    return pending
