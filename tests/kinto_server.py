"""A real notifier server process configured as a Kinto test server, in Kinto's own keys."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from notifier.dev.redis_server import free_port
from tests.conftest import SECRET
from tests.helpers import ROOT, server_answers, wait_for

#: Kinto's test-server settings (kinto-http's own test suite runs against these).
KINTO_TEST_SERVER = {
    "kinto.includes": "kinto.plugins.accounts kinto.plugins.flush",
    "multiauth.policies": "account",
    "multiauth.policy.account.use": "kinto.plugins.accounts.AccountsPolicy",
    "kinto.account_create_principals": "system.Everyone",
    "kinto.account_write_principals": "account:user",
    "kinto.bucket_create_principals": "system.Authenticated",
    "kinto.experimental_permissions_endpoint": "true",
    "kinto.userid_hmac_secret": SECRET,
}


def write_server_ini(path: Path, port: int, storage: Path) -> Path:
    lines = [
        "[app:main]",
        "use = call:notifier:main",
        f"kinto.storage_url = {storage}",
        "notifier.account_bcrypt_rounds = 4",
        *(f"{key} = {value}" for key, value in KINTO_TEST_SERVER.items()),
        "",
        "[server:main]",
        "use = egg:waitress#main",
        "host = 127.0.0.1",
        f"port = {port}",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@contextmanager
def kinto_test_server(folder: Path) -> Iterator[str]:
    """``pserve`` of a Kinto test server's INI; yields the base URL, stops it with SIGTERM."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    ini = write_server_ini(folder / "server.ini", port, folder / "notifier.sqlite")
    log = (folder / "server.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "pyramid.scripts.pserve", str(ini)],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(lambda: server.poll() is not None or server_answers(port), timeout=30)
        assert server.poll() is None, (folder / "server.log").read_text()
        yield f"http://127.0.0.1:{port}"
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)
        log.close()
