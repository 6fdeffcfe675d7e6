"""``./dev serve`` end to end: server, private Redis, worker, and a clean stop."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
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


def test_the_readme_flow_app_ini_with_no_redis_running(tmp_path):
    """app.ini as shipped, its Redis URL pointing nowhere: a private Redis takes over."""
    shutil.copy(ROOT / "app.ini", tmp_path / "app.ini")
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "NOTIFIER_EVENT_LISTENERS_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
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
        record = post_record(base)
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
        children = _children(server.pid)
        assert len(children) == 2  # the worker and the private redis-server
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
