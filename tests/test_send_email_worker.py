"""workers/send_email.py: the email listener, fed from the Redis queue."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import redis

from notifier.delivery.events import ResourceChanged
from notifier.delivery.loader import listener_from_ini
from tests.email_helpers import email_settings, record_event
from tests.ini import write_ini
from tests.smtp import SmtpServer

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "workers" / "send_email.py"


def test_a_queued_event_gives_the_same_mail_as_a_direct_one(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    ini = write_ini(tmp_path / "app.ini", email_settings(smtp_server.server))
    handler = listener_from_ini(ini, "send_email")  # what the worker script runs
    event = record_event("update", new={"id": "r1", "title": "T"}, old={"id": "r1"})

    handler(event)
    handler(ResourceChanged.from_json(event.to_json()))

    direct, queued = smtp_server.received
    assert queued.message["Subject"] == direct.message["Subject"]
    assert queued.body == direct.body
    assert queued.rcpt_tos == direct.rcpt_tos


def test_worker_sends_queued_events_in_burst_mode(
    tmp_path: Path,
    smtp_server: SmtpServer,
    redis_url: str,
    redis_client: redis.Redis,
    listname: str,
) -> None:
    settings = email_settings(smtp_server.server, subject="{action} {record_id}")
    settings["notifier.event_listeners"] = "redis"  # send_email is the worker's only
    settings["notifier.event_listeners.redis.use"] = "notifier.listeners.redis"
    settings["notifier.event_listeners.redis.url"] = redis_url
    settings["notifier.event_listeners.redis.listname"] = listname
    ini = write_ini(tmp_path / "app.ini", settings)
    for event in (record_event("create", new={"id": "a"}), record_event("delete", new={"id": "b"})):
        redis_client.rpush(listname, event.to_json())

    result = subprocess.run(
        [sys.executable, str(SCRIPT), ini, "--queue-listener", "redis",
         "--email-listener", "send_email", "--burst"],
        env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert [mail.message["Subject"] for mail in smtp_server.received] == ["create a", "delete b"]
    assert redis_client.llen(listname) == 0
