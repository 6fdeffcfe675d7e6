"""``./dev serve`` end to end: server, private Redis, worker, and a clean stop."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

from notifier.dev.redis_server import free_port
from tests.cli import NOTIFIER
from tests.conftest import ALICE
from tests.helpers import server_answers, wait_for

ROOT = Path(__file__).resolve().parent.parent


def post_record(base: str) -> dict:
    request = urllib.request.Request(
        f"{base}/v1/buckets/default/collections/notes/records",
        method="POST",
        data=json.dumps({"data": {"note": "kinto"}}).encode(),
        headers={**ALICE, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201
        return json.load(response)["data"]


def huge_upload_status(port: int) -> bytes:
    """Announce a 300 MB body and send none of it: the server answers without waiting."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(
            b"PUT /v1/buckets/b HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 300000000\r\n\r\n"
        )
        return connection.recv(65536).split(b"\r\n", 1)[0]


def test_the_readme_flow_app_ini_with_no_redis_running(tmp_path):
    """app.ini as shipped, its Redis URL pointing nowhere: a private Redis takes over."""
    shutil.copy(ROOT / "app.ini", tmp_path / "app.ini")
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "NOTIFIER_EVENT_LISTENERS_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
        "NOTIFIER_PUSH_PORT": "0",  # the push service on a port of its own
    }
    output = tmp_path / "serve.log"
    with output.open("wb") as log:
        server = subprocess.Popen(
            [NOTIFIER, "serve", "app.ini", "--dev", "--port", str(port)],
            cwd=ROOT,
            env={**env, "NOTIFIER_STORAGE_URL": str(tmp_path / "db.sqlite")},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: server_answers(port), timeout=30)
        wait_for(lambda: b"1 thread(s)" in output.read_bytes(), timeout=30)
        wait_for(lambda: b"push: serving http://127.0.0.1:" in output.read_bytes(), timeout=30)
        record = post_record(base)
        assert huge_upload_status(port) == b"HTTP/1.1 413 Request Entity Too Large"
        wait_for(lambda: f"{record['id']} ".encode() in output.read_bytes())
        with urllib.request.urlopen(f"{base}/v1/__heartbeat__", timeout=5) as response:
            assert json.load(response)["redis"] == {"ok": True, "redis": True, "workers": True}
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)
    text = output.read_text()
    assert "uses a private one at redis://127.0.0.1:" in text
    assert "workers.example: create /buckets/" in text
    assert "stopped after" in text  # the worker was stopped with the server


def test_a_killed_dev_server_takes_its_worker_and_private_redis_with_it(tmp_path):
    """SIGKILL leaves no cleanup to Python: the kernel stops the children (Linux)."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT),
           "NOTIFIER_EVENT_LISTENERS_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
           "NOTIFIER_PUSH_PORT": "0",
           "NOTIFIER_STORAGE_URL": str(tmp_path / "db.sqlite")}  # fmt: skip
    output = tmp_path / "serve.log"
    with output.open("wb") as log:
        server = subprocess.Popen(
            [NOTIFIER, "serve", "app.ini", "--dev", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(lambda: server_answers(port), timeout=30)
        wait_for(lambda: b"1 thread(s)" in output.read_bytes(), timeout=30)
        # The worker, the private redis-server, and the push service once it is up.
        wait_for(lambda: len(_children(server.pid)) == 3, timeout=30)
        children = _children(server.pid)
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)
    wait_for(lambda: not any(Path(f"/proc/{pid}").exists() for pid in children), timeout=10)


def _children(pid: int) -> list[int]:
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            if f"PPid:\t{pid}\n" in status.read_text():
                found.append(int(status.parent.name))
        except OSError:
            continue
    return found


def test_a_bad_setting_stops_the_start_with_one_line_naming_it(tmp_path):
    ini = tmp_path / "bad.ini"
    ini.write_text((ROOT / "app.ini").read_text())
    env = {**os.environ, "NOTIFIER_PAGINATE_BY": "ten", "NOTIFIER_STORAGE_URL": "n.sqlite"}
    done = subprocess.run(
        [NOTIFIER, "serve", str(ini), "--port", str(free_port())],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == (
        "notifier: notifier.paginate_by: expected an integer between 1 and 10000 (got 'ten')"
    )
    assert "Traceback" not in done.stderr


def dev_ini(folder: Path, redis_url: str, listname: str) -> Path:
    ini = folder / "app.ini"
    ini.write_text(
        (ROOT / "app.ini")
        .read_text()
        .replace("redis://127.0.0.1:6379/0", redis_url)
        .replace("listname = eventqueue", f"listname = {listname}")
    )
    return ini


def test_a_dying_worker_is_logged_and_started_again(tmp_path, redis_url, listname):
    """A handler that does not import: the worker exits, the dev server says so and retries."""
    ini = dev_ini(tmp_path, redis_url, listname)
    port = free_port()
    output = tmp_path / "serve.log"
    env = {**os.environ, "NOTIFIER_STORAGE_URL": str(tmp_path / "db.sqlite")}
    command = [NOTIFIER, "serve", str(ini), "--dev", "--port", str(port)]
    with output.open("wb") as log:
        server = subprocess.Popen(
            [*command, "--handler", "nosuchmodule:handle"],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_for(lambda: output.read_text().count("exited with status 1") >= 2, timeout=60)
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
    text = output.read_text()
    assert "notifier: --handler: no module named 'nosuchmodule'" in text
    name = "worker nosuchmodule:handle on listener redis"
    assert f"{name} (pid " in text
    assert ") exited with status 1; starting it again in 1s" in text
    assert ") exited with status 1; starting it again in 2s" in text  # backoff


def test_workers_find_handlers_beside_the_ini_and_on_pythonpath(tmp_path, redis_url, listname):
    """PYTHONPATH is extended for the dev server's worker, never replaced."""
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "elsewhere.py").write_text("SEEN = 'seen'\n")
    (tmp_path / "handlers.py").write_text(
        "import pathlib, elsewhere\n"
        "def handle(event):\n"
        f"    pathlib.Path({str(tmp_path / 'handled')!r}).write_text(elsewhere.SEEN)\n"
    )
    ini = dev_ini(tmp_path, redis_url, listname)
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(lib), "NOTIFIER_STORAGE_URL": str(tmp_path / "db")}
    output = tmp_path / "serve.log"
    command = [NOTIFIER, "serve", str(ini), "--dev", "--port", str(port)]
    with output.open("wb") as log:
        server = subprocess.Popen(
            [*command, "--handler", "handlers:handle"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_for(lambda: server_answers(port), timeout=60)
        post_record(f"http://127.0.0.1:{port}")
        wait_for((tmp_path / "handled").exists, timeout=30)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    assert (tmp_path / "handled").read_text() == "seen"
    assert "exited with" not in output.read_text()


def test_pserve_serves_the_shipped_app_ini(tmp_path):
    """``pserve app.ini`` keeps working beside ``notifier serve``, given a secret of one's own
    (app.ini ships none: only ``notifier serve --dev`` makes one)."""
    port = free_port()
    ini = tmp_path / "app.ini"
    ini.write_text((ROOT / "app.ini").read_text().replace("port = 8888", f"port = {port}"))
    env = {
        **os.environ,
        "NOTIFIER_STORAGE_URL": str(tmp_path / "db.sqlite"),
        "NOTIFIER_EVENT_LISTENERS": "log",
        "NOTIFIER_USERID_HMAC_SECRET": "a-secret-of-this-deployment-only-0123456789",
    }
    pserve = str(Path(sys.executable).with_name("pserve"))
    server = subprocess.Popen(
        [pserve, str(ini)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for(lambda: server_answers(port), timeout=60)
        assert post_record(f"http://127.0.0.1:{port}")["note"] == "kinto"
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
