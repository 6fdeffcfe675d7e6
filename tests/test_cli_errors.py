"""Every expected failure of ``notifier`` is one line naming what is wrong (the real command)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyramid.config import Configurator

from notifier.cli.main import main
from notifier.listeners.redis import load_from_config
from tests.cli import notifier, one_line_error
from tests.helpers import make_event


def write_app_ini(
    folder: Path, extra: str = "", port: str = "8888", listeners: str = "log"
) -> Path:
    """A small app.ini: SQLite beside it, the ``listeners`` named, ``extra`` settings."""
    ini = folder / "app.ini"
    ini.write_text(
        "[app:main]\nuse = egg:notifier\n"
        "notifier.userid_hmac_secret = a-test-secret-of-some-length-over-32\n"
        "notifier.storage_url = db.sqlite\n"
        f"notifier.event_listeners = {listeners}\n"
        "notifier.event_listeners.log.use = notifier.listeners.log\n"
        f"{extra}\n\n[server:main]\nport = {port}\n"
    )
    return ini


class Silent:
    """A TCP server that accepts connections and never answers: a hung Redis."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.accepted_at: list[float] = []


@pytest.fixture
def silent_server() -> Iterator[Silent]:
    silent = Silent()
    server = silent.server
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
                silent.accepted_at.append(time.monotonic())
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield silent
    stop.set()
    thread.join(timeout=5)
    for connection in accepted:
        connection.close()
    server.close()


def test_a_missing_ini_is_one_line(tmp_path):
    assert one_line_error(notifier("serve", cwd=tmp_path)) == (
        "notifier: INI: no such file (got 'app.ini')"
    )


def test_an_ini_that_is_a_folder_or_not_an_ini_is_one_line(tmp_path, capsys):
    assert main(["serve", str(tmp_path)]) == 1
    assert capsys.readouterr().err == (
        f"notifier: INI: is a folder, not an INI file (got {str(tmp_path)!r})\n"
    )
    garbage = tmp_path / "garbage.ini"
    garbage.write_text("this is not an ini file\n")
    assert one_line_error(notifier("serve", str(garbage))) == (
        "notifier: INI: not an INI file: File contains no section headers. file:"
        f" '{garbage}', line: 1 'this is not an ini file\\n' (got '{garbage}')"
    )
    no_app = tmp_path / "no_app.ini"
    no_app.write_text("[server:main]\nport = 8000\n")
    assert main(["outbox", "stats", str(no_app)]) == 1
    assert capsys.readouterr().err.startswith("notifier: INI: No section 'main'")


def test_traceback_shows_the_stack(tmp_path):
    done = notifier("serve", "missing.ini", "--traceback", cwd=tmp_path)
    assert done.returncode == 1
    assert "Traceback (most recent call last)" in done.stderr
    assert done.stderr.rstrip().endswith("INI: no such file (got 'missing.ini')")


@pytest.mark.parametrize(
    ("args", "port", "line"),
    [
        (["--port", "88888"], "8888", "--port: expected a port between 1 and 65535 (got '88888')"),
        (["--port", "http"], "8888", "--port: expected a port between 1 and 65535 (got 'http')"),
        ([], "88888", "[server:main] port: expected a port between 1 and 65535 (got '88888')"),
    ],
)
def test_a_port_out_of_range_is_one_line(tmp_path, capsys, args, port, line):
    ini = write_app_ini(tmp_path, port=port)
    assert main(["serve", str(ini), *args]) == 1
    assert capsys.readouterr().err == f"notifier: {line}\n"


def test_the_command_refuses_a_port_out_of_range(tmp_path):
    ini = write_app_ini(tmp_path, port="88888")
    assert one_line_error(notifier("serve", str(ini))) == (
        "notifier: [server:main] port: expected a port between 1 and 65535 (got '88888')"
    )


def test_a_port_in_use_is_one_line(tmp_path):
    ini = write_app_ini(tmp_path)
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        line = one_line_error(notifier("serve", str(ini), "--port", str(port)))
    assert (
        line == f"notifier: port: cannot listen on 127.0.0.1: Address already in use (got {port})"
    )


def test_a_missing_listener_module_is_one_line(tmp_path):
    extra = "notifier.event_listeners.mine.use = mylistener"
    ini = write_app_ini(tmp_path, extra, listeners="log mine")
    line = one_line_error(notifier("outbox", "stats", str(ini)))
    assert line.startswith(
        "notifier: notifier.event_listeners.mine.use: no module named 'mylistener'"
    )


def test_a_listener_module_beside_the_ini_imports(tmp_path):
    """The INI's folder is on the import path, whatever the current folder."""
    (tmp_path / "mylistener.py").write_text(
        "def load_from_config(config, prefix):\n    return lambda event: None\n"
    )
    extra = "notifier.event_listeners.mine.use = mylistener"
    ini = write_app_ini(tmp_path, extra, listeners="mine")
    done = notifier("outbox", "stats", str(ini))
    assert done.returncode == 0, done.stderr
    assert '"backlog": 0' in done.stdout


def test_a_missing_handler_module_is_one_line(redis_url, listname):
    done = notifier("worker", "--handler", "nosuchmodule:handle", "--url", redis_url)
    assert one_line_error(done) == (
        "notifier: --handler: no module named 'nosuchmodule' (beside the INI, in the current"
        " folder or on PYTHONPATH) (got 'nosuchmodule:handle')"
    )


def test_init_writes_a_fresh_secret_and_will_not_overwrite_without_yes(tmp_path):
    first = notifier("init", "--backend", "postgresql", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [
        "wrote app.ini (postgresql); start it with: notifier serve app.ini",
        "first create the schema with: notifier migrate app.ini",
    ]
    text = (tmp_path / "app.ini").read_text()
    assert "notifier.storage_backend = notifier.storage.postgresql" in text
    assert one_line_error(notifier("init", cwd=tmp_path)) == (
        "notifier: --yes: app.ini exists: replace it (and its secret)? needs a terminal to"
        " confirm, or --yes"
    )
    assert main(["init", str(tmp_path / "app.ini"), "--yes"]) == 0
    secrets = [
        line for t in (text, (tmp_path / "app.ini").read_text()) for line in t.splitlines()
        if line.startswith("notifier.userid_hmac_secret = ")
    ]  # fmt: skip
    assert len(secrets) == 2 and secrets[0] != secrets[1]
    assert len(secrets[1].split(" = ")[1]) >= 40


def test_an_init_file_serves_as_written(tmp_path, capsys):
    """What ``init`` writes is a valid app: ``outbox stats`` configures it fully."""
    assert main(["init", str(tmp_path / "app.ini")]) == 0
    capsys.readouterr()
    assert main(["outbox", "stats", str(tmp_path / "app.ini")]) == 0
    assert '"dead": 0' in capsys.readouterr().out


def test_the_first_push_to_a_silent_redis_takes_one_socket_timeout(silent_server):
    """A Redis that accepts and never answers: the listener gives up after socket_timeout."""
    prefix = "notifier.event_listeners.redis."
    settings = {
        prefix + "use": "notifier.listeners.redis",
        prefix + "url": f"redis://127.0.0.1:{silent_server.port}/0",
        prefix + "socket_timeout": "0.5",
    }
    listener = load_from_config(Configurator(settings=settings), prefix)
    try:
        for write in (lambda: listener(make_event(1)), lambda: listener.deliver([make_event(2)])):
            started = time.monotonic()
            with pytest.raises(Exception, match="Timeout"):
                write()
            assert 0.45 < time.monotonic() - started < 0.9  # one timeout, not two
    finally:
        listener.close()


def test_the_command_against_a_silent_redis_takes_one_socket_timeout(tmp_path, silent_server):
    """``socket_timeout`` of the INI's listener bounds the command's wait, end to end."""
    url = f"redis://127.0.0.1:{silent_server.port}/0"
    ini = write_app_ini(tmp_path, f"notifier.event_listeners.redis.url = {url}\n"
                        "notifier.event_listeners.redis.socket_timeout = 2")  # fmt: skip
    done = notifier("queue", "depth", str(ini), timeout=60)
    ended = time.monotonic()
    assert one_line_error(done) == f"notifier: redis at {url}: Timeout reading from socket"
    # From its connection to its exit: one timeout (2 s), not one per retry.
    assert len(silent_server.accepted_at) == 1
    assert 2.0 <= ended - silent_server.accepted_at[0] < 3.5


def test_shell_completion_completes_subcommands_and_choices():
    complete = {"_NOTIFIER_COMPLETE": "bash_complete"}
    done = notifier(env={**complete, "COMP_WORDS": "notifier se", "COMP_CWORD": "1"})
    assert done.stdout.splitlines() == ["plain,serve"]
    words = "notifier init --backend "
    done = notifier(env={**complete, "COMP_WORDS": words, "COMP_CWORD": "3"})
    assert done.stdout.splitlines() == ["plain,postgresql", "plain,sqlite"]
