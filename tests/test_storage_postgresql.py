"""What only the PostgreSQL backend has: concurrent writers, the pool, migrations."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
from pyramid.paster import get_appsettings

import notifier
from notifier.cli.main import main as notifier_main
from notifier.dev.redis_server import free_port
from notifier.settings import SettingsError
from notifier.storage import StorageError, transaction
from notifier.storage.postgresql import (
    PostgreSQLStorage,
    load_from_settings,
    migrate_from_settings,
)
from tests.cli import notifier as run_notifier
from tests.cli import one_line_error
from tests.helpers import wait_for

RECORDS = "/buckets/b/collections/c"


def migrate_main(argv: list[str]) -> int:
    return notifier_main(["migrate", *argv])


@pytest.fixture
def url(postgresql_schema_url: str) -> str:
    """A migrated schema of this test's own."""
    migrate_from_settings({"notifier.storage_url": postgresql_schema_url})
    return postgresql_schema_url


@pytest.fixture
def small(url: str) -> Iterator[PostgreSQLStorage]:
    """One connection, and a short wait for it."""
    storage = PostgreSQLStorage(url, pool_size=1, timeout=0.5)
    yield storage
    storage.close()


def test_concurrent_writers_get_distinct_increasing_timestamps(url: str) -> None:
    storage = PostgreSQLStorage(url, pool_size=8)
    start = threading.Barrier(8)

    def writer(n: int) -> list[int]:
        start.wait(10)
        stamps = []
        for i in range(25):
            with transaction(storage) as session:
                obj = session.update("record", RECORDS, {"id": f"w{n}-{i}"})
                stamps.append(obj["last_modified"])
        return stamps

    try:
        with ThreadPoolExecutor(8) as executor:
            results = list(executor.map(writer, range(8)))
        with transaction(storage, write=False) as session:
            listed = session.list("record", RECORDS)
            latest = session.timestamp("record", RECORDS)
    finally:
        storage.close()
    everything = [stamp for stamps in results for stamp in stamps]
    assert len(set(everything)) == 200
    assert all(stamps == sorted(stamps) for stamps in results)
    assert latest == max(everything)
    assert sorted(obj["last_modified"] for obj in listed) == sorted(everything)


def test_an_unmigrated_database_is_refused_naming_the_command(
    postgresql_schema_url: str,
) -> None:
    with pytest.raises(StorageError) as raised:
        load_from_settings({"notifier.storage_url": postgresql_schema_url})
    assert "has no notifier schema" in str(raised.value)
    assert "notifier migrate <your .ini>" in str(raised.value)


def app_settings(url: str) -> dict[str, str]:
    return {
        "notifier.storage_backend": "notifier.storage.postgresql",
        "notifier.storage_url": url,
        "notifier.userid_hmac_secret": "test-secret-of-at-least-32-characters",
    }


def test_the_app_refuses_to_start_on_an_unmigrated_database(
    postgresql_schema_url: str,
) -> None:
    with pytest.raises(StorageError, match="create it with: notifier migrate"):
        notifier.main({}, **app_settings(postgresql_schema_url))
    migrate_from_settings({"notifier.storage_url": postgresql_schema_url})
    app = notifier.main({}, **app_settings(postgresql_schema_url))
    app.registry.notifier.storage.close()


def test_a_newer_schema_is_refused(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(
            "INSERT INTO notifier_schema_migrations (version, name) VALUES (99, 'future')"
        )
    with pytest.raises(StorageError, match="schema version 99 is newer than this notifier knows"):
        PostgreSQLStorage(url)
    with pytest.raises(StorageError, match="version 99 is newer"):
        migrate_from_settings({"notifier.storage_url": url})


MIGRATIONS = [
    "applied 0001_initial",
    "applied 0002_outbox",
    "applied 0003_permissions_by_permission",
]


def test_migrate_is_idempotent(postgresql_schema_url: str) -> None:
    settings = {"notifier.storage_url": postgresql_schema_url}
    first = migrate_from_settings(settings)
    second = migrate_from_settings(settings)
    assert first[:3] == MIGRATIONS
    assert second == first[3:]
    assert second[0].endswith("schema version 3, the latest")
    PostgreSQLStorage(postgresql_schema_url).close()


def write_ini(path: Path, backend: str, url: str) -> Path:
    ini = path / "app.ini"
    url = url.replace("%", "%%")  # INI interpolation
    ini.write_text(
        f"[app:main]\nuse = egg:notifier\nnotifier.storage_backend = {backend}\n"
        f"notifier.storage_url = {url}\n"
    )
    return ini


def test_the_command_migrates_from_an_ini_file(
    postgresql_schema_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ini = write_ini(tmp_path, "notifier.storage.postgresql", postgresql_schema_url)
    assert migrate_main([str(ini)]) == 0
    assert migrate_main([str(ini)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:3] == MIGRATIONS
    assert lines[3:] == [lines[3]] * 2
    assert "schema version 3, the latest" in lines[3]


def test_the_notifier_command_migrates_and_serve_names_it_before(
    postgresql_schema_url: str, tmp_path: Path
) -> None:
    write_ini(tmp_path, "notifier.storage.postgresql", postgresql_schema_url)
    env = {"NOTIFIER_USERID_HMAC_SECRET": "test-secret-of-at-least-32-characters"}
    refused = run_notifier("serve", "--port", str(free_port()), cwd=tmp_path, env=env)
    assert one_line_error(refused).endswith(
        "the database has no notifier schema; create it with: notifier migrate <your .ini>"
    )
    done = run_notifier("migrate", cwd=tmp_path)  # ./app.ini
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("".join(line + "\n" for line in MIGRATIONS))


def test_the_command_has_nothing_to_do_for_sqlite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ini = write_ini(tmp_path, "notifier.storage.sqlite", "notifier.sqlite")
    assert migrate_main([str(ini)]) == 0
    out = capsys.readouterr().out
    assert out == "notifier.storage.sqlite manages its own schema: nothing to migrate\n"


def test_the_command_reports_a_bad_setting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ini = write_ini(tmp_path, "notifier.storage.postgresql", "mysql://db/x")
    assert migrate_main([str(ini)]) == 1
    assert "notifier.storage_url: expected a postgresql://" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["postgres.example.org", "sqlite:///x", "notifier.sqlite"])
def test_storage_url_must_be_a_postgresql_url(value: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_from_settings({"notifier.storage_url": value})
    assert str(raised.value) == (
        "notifier.storage_url: expected a postgresql://user:password@host:port/dbname URL"
        f" for notifier.storage.postgresql (got {value!r})"
    )


@pytest.mark.parametrize("value", ["0", "-3", "ten"])
def test_pool_size_must_be_a_positive_integer(value: str) -> None:
    settings = {"notifier.storage_url": "postgresql://db/x", "notifier.storage_pool_size": value}
    with pytest.raises(SettingsError) as raised:
        load_from_settings(settings)
    assert str(raised.value) == (
        f"notifier.storage_pool_size: expected a positive integer (got {value!r})"
    )


def test_an_unreachable_server_is_a_storage_error() -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/test"
    with pytest.raises(StorageError, match=r"127\.0\.0\.1:\d+/test: cannot connect"):
        load_from_settings({"notifier.storage_url": url})


def test_a_session_takes_a_connection_only_when_it_reads(small: PostgreSQLStorage) -> None:
    idle = small.session(write=True)
    with transaction(small, write=False) as session:
        assert session.timestamp("record", RECORDS) == 0
    assert small.healthy()
    idle.commit()


def test_a_full_pool_is_a_storage_error_not_a_deadlock(small: PostgreSQLStorage) -> None:
    holder = small.session(write=True)
    holder.create("bucket", "", {"id": "b"})
    other = small.session(write=True)
    with pytest.raises(StorageError) as raised:
        other.get("bucket", "", "b")
    assert "no free connection after 0.5s (notifier.storage_pool_size = 1)" in str(raised.value)
    other.rollback()
    assert small.healthy() is False
    holder.commit()
    with transaction(small) as session:
        assert session.get("bucket", "", "b") is not None
    assert small.healthy() is True


def test_a_lost_connection_is_a_storage_error_and_the_pool_recovers(
    small: PostgreSQLStorage, postgresql_url: str
) -> None:
    session = small.session(write=False)
    pid = session._execute("SELECT pg_backend_pid()").fetchone()[0]
    with psycopg.connect(postgresql_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    with pytest.raises(StorageError, match="127.0.0.1|postgresql"):
        session.timestamp("record", RECORDS)
    session.rollback()
    with transaction(small, write=False) as fresh:
        assert fresh.timestamp("record", RECORDS) == 0


def test_a_connection_the_server_closed_while_idle_is_replaced_not_an_error(
    small: PostgreSQLStorage, postgresql_url: str
) -> None:
    """The pool's check costs no round trip, yet still catches a server-side close
    (a restart does the same to every idle connection)."""
    with transaction(small, write=False) as session:
        pid = session._execute("SELECT pg_backend_pid()").fetchone()[0]
    with psycopg.connect(postgresql_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        gone = "SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = %s"
        wait_for(lambda: admin.execute(gone, (pid,)).fetchone()[0])
    with transaction(small, write=False) as session:
        assert session.timestamp("record", RECORDS) == 0
        assert session._execute("SELECT pg_backend_pid()").fetchone()[0] != pid


def test_a_failed_statement_sent_with_the_commit_fails_the_commit_and_undoes_the_rest(
    small: PostgreSQLStorage,
) -> None:
    """Statements whose results nobody reads travel with COMMIT: an error among
    them is the commit's, and nothing of the transaction stays."""
    with transaction(small) as session:
        session.set_permissions("/buckets/b", {"read": {"alice"}}, new_object=True)
    session = small.session(write=True)
    session.create("bucket", "", {"id": "c"})
    session.set_permissions("/buckets/b", {"read": {"alice"}}, new_object=True)  # duplicate
    with pytest.raises(psycopg.errors.UniqueViolation):
        session.commit()
    session.rollback()
    with transaction(small, write=False) as fresh:  # the one connection is usable again
        assert fresh.get("bucket", "", "c") is None
        assert fresh.get_permissions("/buckets/b") == {"read": {"alice"}}


def test_a_rollback_before_any_result_was_read_sends_nothing(small: PostgreSQLStorage) -> None:
    session = small.session(write=True)
    session.set_permissions("/buckets/b", {"read": {"alice"}}, new_object=True)
    session.rollback()
    with transaction(small, write=False) as fresh:
        assert fresh.get_permissions("/buckets/b") == {}


def test_sent_statements_run_in_order_before_the_next_read(small: PostgreSQLStorage) -> None:
    with transaction(small) as session:
        session.set_permissions("/buckets/b", {"read": {"alice"}}, new_object=True)
        session.set_permissions("/buckets/b", {"write": {"bob"}})
        assert session.get_permissions("/buckets/b") == {"write": {"bob"}}
        session.delete_permissions("/buckets/b")
    with transaction(small, write=False) as fresh:
        assert fresh.get_permissions("/buckets/b") == {}


def test_config_postgresql_ini_starts_with_the_url_from_the_environment(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ini = Path(__file__).parent.parent / "config" / "postgresql.ini"
    settings = get_appsettings(str(ini), name="main")
    monkeypatch.setenv("NOTIFIER_STORAGE_URL", url)
    monkeypatch.setenv("NOTIFIER_USERID_HMAC_SECRET", "a-secret-of-this-deployment-only-0123")
    app = notifier.main({"here": str(ini.parent)}, **settings)
    storage = app.registry.notifier.storage
    try:
        assert isinstance(storage, PostgreSQLStorage)
        assert storage.pool_size == 10
    finally:
        storage.close()


def test_the_command_reports_a_missing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.ini"
    assert migrate_main([str(missing)]) == 1
    assert capsys.readouterr().err == f"notifier: INI: no such file (got {str(missing)!r})\n"


def test_a_principals_memberships_are_a_seek_whatever_else_it_holds(url: str) -> None:
    """Every request looks up its user's groups (``member``): the index leads
    with (principal, permission), so the rows of the user's ``write`` on each of
    its records are not read for that."""
    with psycopg.connect(url) as connection:
        (definition,) = connection.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'permissions_by_principal'"
            " AND schemaname = current_schema()"
        ).fetchone()
    assert definition.endswith("(principal, permission, object_uri)")
