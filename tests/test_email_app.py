"""The email listener inside the application: HTTP writes, filters, outages, start-up.

Every test drives the real WSGI app (webtest) configured by INI-style settings
and reads what a real SMTP server (aiosmtpd on 127.0.0.1) received.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import logging
import os
import re
import shlex
import subprocess
import textwrap
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from webtest import TestApp

from notifier.settings import SettingsError
from notifier.storage import OutboxStats, transaction
from tests.cli import NOTIFIER
from tests.email_helpers import RECIPIENTS, SENDER, email_settings
from tests.eventing import ALICE, RECORDS, create_collection, make_app
from tests.smtp import Received, SmtpServer, free_port

FAST_RETRIES = {
    "notifier.outbox.backoff_base": "0.001",
    "notifier.outbox.backoff_max": "0.001",
    "notifier.outbox.lease": "0.001",
}
RECORD_SUBJECT = "{action}d {collection_id}/{record_id} {object[title]}"


def email_app(tmp_path: Path, server: str, **extra: str) -> TestApp:
    """The app with one ``send_email`` listener; ``extra`` keys are under its prefix."""
    return make_app(tmp_path, **email_settings(server, **extra), **FAST_RETRIES)


def user_id(app: TestApp) -> str:
    return str(app.get("/v1/", headers=ALICE).json["user"]["id"])


def outbox_stats(app: TestApp) -> OutboxStats:
    with transaction(app.app.registry.notifier.storage, write=False) as session:
        return session.outbox_stats()


def relay_rounds(app: TestApp, rounds: int = 10) -> None:
    relay = app.app.registry.notifier.relay
    for _ in range(rounds):
        time.sleep(0.005)  # past the 1 ms backoff
        relay.run_once()


def subject(mail: Received) -> str:
    """The Subject as a mail client shows it.

    A subject whose first word is long (a ``basicauth:`` userid is 74
    characters) is folded right after ``Subject:``, and Python's parser keeps
    the folding space in front; clients drop it.
    """
    return str(mail.message["Subject"]).lstrip(" ")


def subjects(mails: list[Received]) -> list[str]:
    return [subject(mail) for mail in mails]


def assert_addressed(mail: Received) -> None:
    assert mail.message["From"] == SENDER
    assert mail.message["To"] == ", ".join(RECIPIENTS)
    assert mail.mail_from == "notifier@example.com"
    assert sorted(mail.rcpt_tos) == sorted(RECIPIENTS)


# -- create, update, delete --------------------------------------------------------------


def test_a_created_record_is_mailed_with_the_default_templates(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    app = email_app(tmp_path, smtp_server.server, resources="record")
    create_collection(app)
    response = app.put_json(f"{RECORDS}/r1", {"data": {"title": "Hi"}}, headers=ALICE, status=201)

    [mail] = smtp_server.received
    assert_addressed(mail)
    who = user_id(app)
    assert subject(mail) == f"{who} created record in b"
    body, event_id = mail.body.split("event: ")
    assert body == (
        f"{who} created record /buckets/b/collections/c/records/r1\n\n"
        f"timestamp: {response.json['data']['last_modified']}\n"
    )
    assert re.fullmatch(r"[0-9a-f]{32}\n", event_id)
    assert outbox_stats(app).backlog == 0


def test_update_and_delete_each_send_one_mail(tmp_path: Path, smtp_server: SmtpServer) -> None:
    body = "{uri}\nnew: {new[title]}\nold: {old[title]}\ndeleted: {new[deleted]}"
    app = email_app(
        tmp_path, smtp_server.server, resources="record", subject=RECORD_SUBJECT, body=body
    )
    create_collection(app)
    app.put_json(f"{RECORDS}/r1", {"data": {"title": "Draft"}}, headers=ALICE, status=201)
    app.patch_json(f"{RECORDS}/r1", {"data": {"title": "Final"}}, headers=ALICE, status=200)
    app.delete(f"{RECORDS}/r1", headers=ALICE, status=200)

    created, updated, deleted = smtp_server.received
    for mail in (created, updated, deleted):
        assert_addressed(mail)
    assert subjects(smtp_server.received) == [
        "created c/r1 Draft",
        "updated c/r1 Final",
        "deleted c/r1 Final",
    ]
    uri = "/buckets/b/collections/c/records/r1"
    assert created.body == f"{uri}\nnew: Draft\nold: \ndeleted: \n"
    assert updated.body == f"{uri}\nnew: Final\nold: Draft\ndeleted: \n"
    assert deleted.body == f"{uri}\nnew: \nold: Final\ndeleted: True\n"


def test_id_names_the_object_of_the_event(tmp_path: Path, smtp_server: SmtpServer) -> None:
    app = email_app(tmp_path, smtp_server.server, subject="{resource_name} {id}")
    create_collection(app)
    app.post_json(RECORDS, {"data": {"id": "r9"}}, headers=ALICE, status=201)

    assert subjects(smtp_server.received) == ["bucket b", "collection c", "record r9"]


# -- filters -----------------------------------------------------------------------------


def _write_everything(app: TestApp) -> None:
    """Bucket b with collections c and d; r1 in c created, updated, deleted; r2 in d."""
    create_collection(app)
    app.put_json("/v1/buckets/b/collections/d", {}, headers=ALICE, status=201)
    app.put_json(f"{RECORDS}/r1", {"data": {"title": "one"}}, headers=ALICE, status=201)
    app.patch_json(f"{RECORDS}/r1", {"data": {"title": "uno"}}, headers=ALICE, status=200)
    other = "/v1/buckets/b/collections/d/records/r2"
    app.put_json(other, {"data": {"title": "two"}}, headers=ALICE, status=201)
    app.delete(f"{RECORDS}/r1", headers=ALICE, status=200)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (
            {"actions": "create delete", "resources": "record"},
            ["created c/r1 one", "created d/r2 two", "deleted c/r1 uno"],
        ),
        ({"actions": "update"}, ["updated c/r1 uno"]),
        ({"collections": "d"}, ["created d/", "created d/r2 two"]),
        ({"resources": "record", "collections": "c"}, [
            "created c/r1 one", "updated c/r1 uno", "deleted c/r1 uno",
        ]),
    ],
    ids=["actions+resources", "actions", "collections", "resources+collections"],
)  # fmt: skip
def test_filters_limit_what_is_mailed(
    tmp_path: Path, smtp_server: SmtpServer, filters: dict[str, str], expected: list[str]
) -> None:
    app = email_app(tmp_path, smtp_server.server, subject=RECORD_SUBJECT, **filters)
    _write_everything(app)

    assert subjects(smtp_server.received) == expected
    assert outbox_stats(app).backlog == 0


def test_a_batch_of_three_creates_sends_one_mail_per_record(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    app = email_app(tmp_path, smtp_server.server, resources="record", subject=RECORD_SUBJECT)
    create_collection(app)
    requests = [
        {"method": "PUT", "path": f"/buckets/b/collections/c/records/r{n}", "body": {"data": {}}}
        for n in range(3)
    ]
    response = app.post_json("/v1/batch", {"requests": requests}, headers=ALICE, status=200)

    assert [r["status"] for r in response.json["responses"]] == [201, 201, 201]
    assert subjects(smtp_server.received) == ["created c/r0", "created c/r1", "created c/r2"]
    for mail in smtp_server.received:
        assert_addressed(mail)


# -- SMTP down, then up ------------------------------------------------------------------


@pytest.fixture
def smtp_later() -> Iterator[SmtpServer]:
    """An SMTP server with a port of its own that a test starts when it chooses."""
    server = SmtpServer()
    yield server
    server.controller.stop(no_assert=True)  # a no-op if the test never started it


def test_smtp_down_then_up_the_relay_mails_once(
    tmp_path: Path, smtp_later: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    app = email_app(tmp_path, smtp_later.server, resources="record", subject=RECORD_SUBJECT)
    create_collection(app)
    with caplog.at_level(logging.WARNING):
        app.put_json(f"{RECORDS}/r1", {"data": {"title": "late"}}, headers=ALICE, status=201)
        relay_rounds(app, 2)  # still down: the retries fail too

    assert outbox_stats(app).backlog == 1
    refused = f"email listener send_email: sending through {smtp_later.server} failed: "
    assert "listener send_email failed on event(s) " in caplog.text
    assert "listener send_email failed again on 1 event(s) from " in caplog.text
    assert refused + "ConnectionRefusedError: [Errno 111] Connection refused" in caplog.text

    smtp_later.start()
    relay_rounds(app, 10)  # the first round delivers; the others must send nothing more

    [mail] = smtp_later.received
    assert_addressed(mail)
    assert mail.message["Subject"] == "created c/r1 late"
    assert (outbox_stats(app).backlog, outbox_stats(app).dead) == (0, 0)


# -- header injection --------------------------------------------------------------------


@pytest.mark.parametrize(
    "title",
    [
        "x\r\nBcc: evil@example.com",
        "x\r\n\r\nBcc: evil@example.com",
        "x\u2028Bcc: evil@example.com",
    ],
)
def test_a_record_cannot_add_a_header(tmp_path: Path, smtp_server: SmtpServer, title: str) -> None:
    app = email_app(tmp_path, smtp_server.server, resources="record", subject="{object[title]}")
    create_collection(app)
    app.put_json(f"{RECORDS}/plain", {"data": {"title": "x"}}, headers=ALICE, status=201)
    app.put_json(f"{RECORDS}/evil", {"data": {"title": title}}, headers=ALICE, status=201)

    plain, evil = smtp_server.received
    assert evil.message["Subject"] == "x Bcc: evil@example.com"
    assert evil.message["Bcc"] is None
    assert evil.message.keys() == plain.message.keys()
    assert sorted(evil.rcpt_tos) == sorted(RECIPIENTS)
    headers = evil.raw.split(b"\r\n\r\n", 1)[0]
    assert not re.search(rb"^bcc:", headers, re.IGNORECASE | re.MULTILINE)


# -- start-up errors ---------------------------------------------------------------------


def refuse(tmp_path: Path, **extra: str) -> str:
    with pytest.raises(SettingsError) as error:
        email_app(tmp_path, "127.0.0.1:1025", **extra)
    return str(error.value)


def test_bad_recipients_stop_the_app(tmp_path: Path) -> None:
    message = refuse(tmp_path, recipients="ops@example.com, Ops <ops@example.com>")
    assert message == (
        "notifier.event_listeners.send_email.recipients: 'Ops' is not an email address such as"
        " notifier@example.com; separate addresses with spaces or commas"
        " (got 'ops@example.com, Ops <ops@example.com>')"
    )


def test_an_unknown_placeholder_stops_the_app(tmp_path: Path) -> None:
    message = refuse(tmp_path, subject="{usr_id} {action}d")
    assert message == (
        "notifier.event_listeners.send_email.subject: unknown placeholder {usr_id}"
        " (did you mean 'user_id'?); accepted: action, uri, resource_name, user_id, timestamp,"
        " event_id, id, bucket_id, collection_id, record_id, object, new, old"
        " (got '{usr_id} {action}d')"
    )


def test_tls_with_ssl_stops_the_app(tmp_path: Path) -> None:
    message = refuse(tmp_path, tls="true", ssl="true")
    assert message == (
        "notifier.event_listeners.send_email.ssl: cannot be true together with"
        " notifier.event_listeners.send_email.tls; choose one (got 'true')"
    )


# -- the tutorial of docs/listeners/email.md, run as documented --------------------------

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = "## Tutorial: a mail for each new record"


def tutorial_blocks() -> list[str]:
    """The fenced blocks of the docs' tutorial, dedented, in order."""
    text = (ROOT / "docs" / "listeners" / "email.md").read_text(encoding="utf-8")
    section = text.split(TUTORIAL + "\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^( *)```\w+\n(.*?)^\1```$", section, re.MULTILINE | re.DOTALL)
    return [textwrap.dedent(body) for _, body in blocks]


def commands(block: str) -> list[list[str]]:
    """The ``$ `` lines of a console block, continuation lines joined, split as a shell would."""
    lines = block.replace("\\\n", " ").splitlines()
    return [shlex.split(line[2:]) for line in lines if line.startswith("$ ")]


def curl(command: list[str], port: int) -> tuple[int, dict[str, Any]]:
    """Send the request of the documented ``curl`` command (its flags only) to ``port``."""
    parser = argparse.ArgumentParser(prog="curl", add_help=False)
    parser.add_argument("-s", action="store_true")
    parser.add_argument("-u", required=True)
    parser.add_argument("-H", action="append", default=[])
    parser.add_argument("-d", required=True)
    parser.add_argument("url")
    args = parser.parse_args(command[1:])
    headers = dict(header.split(": ", 1) for header in args.H)
    headers["Authorization"] = "Basic " + base64.b64encode(args.u.encode()).decode()
    url = args.url.replace("127.0.0.1:8888", f"127.0.0.1:{port}")
    request = urllib.request.Request(url, data=args.d.encode(), headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, json.loads(response.read())


@contextlib.contextmanager
def served(command: list[str], port: int, log: Path) -> Iterator[None]:
    """Run the server ``command`` until it answers on ``port``; always kill it at the end."""
    with log.open("wb") as output:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            _wait_until_served(process, port, log)
            yield
        finally:
            process.kill()
            process.wait(timeout=10)


def _wait_until_served(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 30
    url = f"http://127.0.0.1:{port}/v1/__lbheartbeat__"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited: {log.read_text(errors='replace')}")
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=1):
            return
        time.sleep(0.05)
    raise AssertionError("the server did not answer within 30 seconds")


def test_the_documented_tutorial_mails_a_new_record(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    smtp_block, ini, serve_block, curl_block, printed = tutorial_blocks()
    install, smtp_command = commands(smtp_block)
    assert install == ["pip", "install", "aiosmtpd"]
    documented_smtp = smtp_command[smtp_command.index("-l") + 1]
    assert f"notifier.event_listeners.send_email.server = {documented_smtp}\n" in ini
    ini_path = tmp_path / "email.ini"
    ini_path.write_text(ini.replace(documented_smtp, smtp_server.server), encoding="utf-8")
    port = free_port()
    words = {"notifier": NOTIFIER, "email.ini": str(ini_path), "8888": str(port)}
    [serve] = commands(serve_block)
    [curl_command] = commands(curl_block)

    with served([words.get(word, word) for word in serve], port, tmp_path / "serve.log"):
        status, created = curl(curl_command, port)
        assert (status, created["data"]["title"]) == (201, "Hello")
        [mail] = smtp_server.received  # sent before the response: no waiting

    message = printed.split("-\n", 1)[1].rsplit("\n-", 1)[0]
    without_peer = re.sub(r"^X-Peer: .*\n", "", message, flags=re.MULTILINE)
    assert mail.raw.decode().replace("\r\n", "\n").rstrip("\n") == without_peer
