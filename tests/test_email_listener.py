"""The email listener against a real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import base64

import pytest

from notifier.listeners.email import EmailDeliveryError
from tests.email_helpers import RECIPIENTS, SENDER, build, email_settings, record_event
from tests.smtp import SmtpServer, free_port

PASSWORD = "s3cret-Pa55"


def test_create_sends_one_mail_with_default_templates(smtp_server: SmtpServer) -> None:
    listener = build(email_settings(smtp_server.server))
    listener(record_event("create", new={"id": "r1", "title": "Hello"}))

    [mail] = smtp_server.received
    assert mail.message["From"] == SENDER
    assert mail.message["To"] == ", ".join(RECIPIENTS)
    assert mail.message["Subject"] == "basicauth:alice created record in blog"
    assert mail.body == (
        "basicauth:alice created record /buckets/blog/collections/posts/records/r1\n"
        "\n"
        "timestamp: 1700000000000\n"
        "event: evt-create-r1\n"
    )
    assert mail.mail_from == "notifier@example.com"
    assert sorted(mail.rcpt_tos) == sorted(RECIPIENTS)


def test_update_fills_object_fields(smtp_server: SmtpServer) -> None:
    settings = email_settings(
        smtp_server.server,
        subject="{user_id} {action}d {object[title]} ({old[title]})",
        body="{resource_name} {record_id} in {bucket_id}/{collection_id}: {new[tags][0]}",
    )
    listener = build(settings)
    old = {"id": "r1", "title": "Draft"}
    listener(record_event("update", new={"id": "r1", "title": "Final", "tags": ["a"]}, old=old))

    [mail] = smtp_server.received
    assert mail.message["Subject"] == "basicauth:alice updated Final (Draft)"
    assert mail.body == "record r1 in blog/posts: a\n"


def test_delete_names_the_deleted_object_not_the_tombstone(smtp_server: SmtpServer) -> None:
    listener = build(email_settings(smtp_server.server, subject="{action}d {object[title]}"))
    tombstone = {"id": "r1", "deleted": True, "last_modified": 1700000000001}
    listener(record_event("delete", new=tombstone, old={"id": "r1", "title": "Gone"}))

    [mail] = smtp_server.received
    assert mail.message["Subject"] == "deleted Gone"


def test_missing_fields_render_empty(smtp_server: SmtpServer) -> None:
    subject = "{collection_id}|{object[nope]}|{object[tags][9]}|{timestamp:%Y}|{action:d}"
    listener = build(email_settings(smtp_server.server, subject=subject))
    event = record_event("create", new={"id": "b", "tags": []}, resource_name="bucket")
    del event.payload["collection_id"]
    listener(event)

    assert smtp_server.received[0].message["Subject"] == "|||1700000000000|create"


def test_several_events_give_one_mail_each_in_order(smtp_server: SmtpServer) -> None:
    listener = build(email_settings(smtp_server.server, subject="{action} {record_id}"))
    events = [
        record_event("create", new={"id": "a"}),
        record_event("update", new={"id": "b"}),
        record_event("delete", new={"id": "c", "deleted": True}),
    ]
    listener.deliver(events)

    subjects = [mail.message["Subject"] for mail in smtp_server.received]
    assert subjects == ["create a", "update b", "delete c"]


def test_smtp_down_raises_without_password_then_up_delivers() -> None:
    port = free_port()
    settings = email_settings(f"127.0.0.1:{port}", username="notifier", password=PASSWORD)
    listener = build(settings)
    event = record_event("create", new={"id": "r1"})

    with pytest.raises(EmailDeliveryError) as error:
        listener(event)
    text = str(error.value)
    assert text.startswith(
        f"email listener send_email: sending through 127.0.0.1:{port} failed:"
        " ConnectionRefusedError: "
    )
    assert PASSWORD not in text
    assert error.value.__cause__ is None and error.value.__suppress_context__

    server = SmtpServer(port=port, login=("notifier", PASSWORD)).start()
    try:
        listener(event)
    finally:
        server.stop()
    assert [mail.message["Subject"] for mail in server.received] == [
        "basicauth:alice created record in blog"
    ]


def test_wrong_password_is_refused_and_not_shown() -> None:
    server = SmtpServer(login=("notifier", "the-right-one")).start()
    try:
        listener = build(email_settings(server.server, username="notifier", password=PASSWORD))
        with pytest.raises(EmailDeliveryError) as error:
            listener(record_event("create"))
    finally:
        server.stop()
    assert "SMTPAuthenticationError: (535" in str(error.value)
    assert PASSWORD not in str(error.value)
    assert server.received == []


def test_a_reply_that_echoes_the_password_is_redacted() -> None:
    login_b64 = base64.b64encode(f"\0notifier\0{PASSWORD}".encode()).decode()
    refusal = f"554 no thanks {PASSWORD} {login_b64}"
    server = SmtpServer(login=("notifier", PASSWORD), refuse_with=refusal).start()
    try:
        listener = build(email_settings(server.server, username="notifier", password=PASSWORD))
        with pytest.raises(EmailDeliveryError) as error:
            listener(record_event("create"))
    finally:
        server.stop()
    text = str(error.value)
    assert "no thanks *** ***" in text
    assert PASSWORD not in text and login_b64 not in text


def test_tls_required_but_not_offered_fails(smtp_server: SmtpServer) -> None:
    listener = build(email_settings(smtp_server.server, tls="true"))
    with pytest.raises(EmailDeliveryError) as error:
        listener(record_event("create"))
    assert str(error.value).endswith("TLS_NotAvailable: TLS is not available but TLS is required")
    assert smtp_server.received == []


def test_repr_hides_the_password(smtp_server: SmtpServer) -> None:
    listener = build(email_settings(smtp_server.server, username="u", password=PASSWORD))
    assert PASSWORD not in repr(listener)
    assert "send_email" in repr(listener)
