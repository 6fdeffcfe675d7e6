"""Kinto's tutorial listener ("How to run custom code on notifications?"), copied
verbatim with its import line changed, against a real SMTP server: in the request,
on the relay's retry after the SMTP server was down, and on a dead letter's replay.
Each mail reads ``User id: basicauth:...``: ``event.request`` is Kinto-shaped in
every delivery."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from webtest import TestApp

from notifier.delivery.relay import now_ms
from notifier.delivery.standin import StandInRequest, from_outbox
from notifier.state import state_of
from notifier.storage import transaction
from tests.conftest import ALICE, ALICE_ID
from tests.eventing import make_app
from tests.helpers import wait_for
from tests.smtp import SmtpServer

L = "notifier.event_listeners"


def tutorial_app(tmp_path: Path, smtp: SmtpServer, **settings: Any) -> TestApp:
    """The tutorial's INI lines, under notifier's prefix."""
    return make_app(
        tmp_path,
        **{
            L: "send_email",
            f"{L}.send_email.use": "tests.listeners.kinto_tutorial",
            f"{L}.send_email.server": smtp.server,
            f"{L}.send_email.tls": "false",
            f"{L}.send_email.username": "",
            f"{L}.send_email.password": "",
            f"{L}.send_email.from": "postmaster@localhost",
            f"{L}.send_email.recipients": "kinto@yopmail.com",
            "notifier.outbox.backoff_base": "0.01",
            "notifier.outbox.backoff_max": "0.05",
            **settings,
        },
    )


def create_note(app: TestApp) -> None:
    app.post_json(
        "/v1/buckets/default/collections/notes/records",
        {"data": {"note": "kinto"}},
        headers={**ALICE, "User-Agent": "tutorial/1.0"},
        status=201,
    )


def mails_by_subject(smtp: SmtpServer, subject: str) -> list[str]:
    return [each.body.strip() for each in smtp.received if each.message["Subject"] == subject]


def test_in_the_request(tmp_path: Path, smtp_server: SmtpServer) -> None:
    app = tutorial_app(tmp_path, smtp_server)
    create_note(app)
    assert mails_by_subject(smtp_server, "record created") == [f"User id: {ALICE_ID}"]
    assert mails_by_subject(smtp_server, "bucket created") == [f"User id: {ALICE_ID}"]


def test_on_the_relays_retry_after_the_smtp_server_was_down(tmp_path: Path) -> None:
    smtp = SmtpServer()  # not started: its port refuses connections
    app = tutorial_app(tmp_path, smtp)
    create_note(app)
    assert smtp.received == []
    smtp.start()
    try:
        relay = state_of(app.app.registry).relay

        def delivered() -> list[str]:
            relay.run_once()
            return mails_by_subject(smtp, "record created")

        assert wait_for(delivered) == [f"User id: {ALICE_ID}"]
    finally:
        smtp.stop()


def test_on_the_replay_of_a_dead_letter(tmp_path: Path) -> None:
    smtp = SmtpServer(refuse_with="554 not today").start()
    try:
        app = tutorial_app(tmp_path, smtp, **{"notifier.outbox.max_attempts": "1"})
        create_note(app)
        storage = state_of(app.app.registry).storage
        with transaction(storage, write=False) as session:
            dead = session.outbox_dead(10)
        assert len(dead) == 3 and "not today" in str(dead[0].last_error)
        smtp.refuse_with = None
        with transaction(storage) as session:
            assert session.outbox_replay("send_email", now_ms()) == 3
        state_of(app.app.registry).relay.run_once()
        assert mails_by_subject(smtp, "record created") == [f"User id: {ALICE_ID}"]
    finally:
        smtp.stop()


def test_the_stand_in_is_kinto_shaped(tmp_path: Path) -> None:
    """What the relay hands a listener: the attributes Kinto's listeners read."""
    smtp = SmtpServer()  # not started: the entries stay in the outbox
    app = tutorial_app(tmp_path, smtp)
    create_note(app)
    storage = state_of(app.app.registry).storage
    with transaction(storage) as session:
        [entry, *_] = session.outbox_claim(now_ms() + 10**9, 1000, 10)
    request = from_outbox(entry.message, app.app.registry).request
    assert isinstance(request, StandInRequest)
    assert request.prefixed_userid == request.authenticated_userid == ALICE_ID
    assert request.method == "POST"
    assert request.path == "/v1/buckets/default/collections/notes/records"
    assert request.url == "http://localhost/v1/buckets/default/collections/notes/records"
    assert request.headers["user-agent"] == "tutorial/1.0"
    assert "Authorization" not in request.headers
    assert request.client_addr is None or isinstance(request.client_addr, str)
    assert request.registry.settings["notifier.userid_hmac_secret"]
    assert request.route_path("bucket-object", id="b") == "/v1/buckets/b"
    assert request.route_url("bucket-object", id="b") == "http://localhost/v1/buckets/b"
