"""Record data can never add or change a header of the email listener's mail."""

from __future__ import annotations

import pytest

from tests.email_helpers import RECIPIENTS, SENDER, build, email_settings, record_event
from tests.smtp import SmtpServer

EVIL = "evil@example.com"
INJECTIONS = [
    "x\r\nBcc: evil@example.com",
    "x\nBcc: evil@example.com",
    "x\rBcc: evil@example.com",
    "x\r\n\r\nBcc: evil@example.com",
    "x\u2028Bcc: evil@example.com",
    "x\x85Bcc: evil@example.com",
    "x\x00\x0bBcc: evil@example.com",
]


@pytest.mark.parametrize("title", INJECTIONS)
def test_subject_injection_stays_in_the_subject(smtp_server: SmtpServer, title: str) -> None:
    listener = build(email_settings(smtp_server.server, subject="{object[title]}"))
    listener(record_event("create", new={"id": "r1", "title": title}))

    [mail] = smtp_server.received
    assert mail.message["Subject"] == "x Bcc: evil@example.com"
    assert mail.message["Bcc"] is None
    assert sorted(mail.rcpt_tos) == sorted(RECIPIENTS)
    assert sorted(mail.message.keys()) == [
        "Content-Disposition", "Content-Transfer-Encoding", "Content-Type",
        "From", "MIME-Version", "Subject", "To",
    ]  # fmt: skip


def test_payload_fields_cannot_inject_either(smtp_server: SmtpServer) -> None:
    listener = build(email_settings(smtp_server.server))
    event = record_event("create", user_id="mallory\r\nTo: evil@example.com", bucket_id="b\nX-A: 1")
    listener(event)

    [mail] = smtp_server.received
    assert mail.message["Subject"] == "mallory To: evil@example.com created record in b X-A: 1"
    assert mail.message["To"] == ", ".join(RECIPIENTS)
    assert mail.message["X-A"] is None
    assert EVIL not in mail.rcpt_tos


def test_body_keeps_lines_but_cannot_reach_the_headers(smtp_server: SmtpServer) -> None:
    listener = build(email_settings(smtp_server.server, body="title: {object[title]}"))
    title = "one\r\nBcc: evil@example.com\r\n.\r\nMAIL FROM:<evil@example.com>\x00"
    listener(record_event("create", new={"id": "r1", "title": title}))

    [mail] = smtp_server.received
    assert mail.body == "title: one\nBcc: evil@example.com\n.\nMAIL FROM:<evil@example.com>\n"
    assert mail.message["Bcc"] is None
    assert mail.message["From"] == SENDER
    assert EVIL not in mail.rcpt_tos and mail.mail_from == "notifier@example.com"


def test_long_subject_is_cut_and_non_ascii_survives(smtp_server: SmtpServer) -> None:
    listener = build(email_settings(smtp_server.server, subject="{object[title]}"))
    listener(record_event("create", new={"id": "r1", "title": "café ✓ " + "a" * 1000}))
    listener(record_event("create", new={"id": "r2", "title": "\u202egnp.exe café"}))

    long_one, bidi = (mail.message["Subject"] for mail in smtp_server.received)
    assert len(long_one) == 250 and long_one.startswith("café ✓ aaa") and long_one[-1] == "…"
    assert bidi == "gnp.exe café"
