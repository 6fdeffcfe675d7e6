"""STARTTLS (``tls``) and SMTPS (``ssl``) check the server's certificate."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from notifier.listeners.email import EmailDeliveryError, EmailListener
from tests.email_helpers import build, email_settings, record_event
from tests.smtp import SmtpServer, self_signed_certificate, server_context

PASSWORD = "tls-Pa55word"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    return self_signed_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture(params=["tls", "ssl"])
def tls_server(
    request: pytest.FixtureRequest, certificate: tuple[str, str]
) -> Iterator[tuple[SmtpServer, EmailListener]]:
    """A server offering STARTTLS (``tls``) or speaking TLS from the start (``ssl``).

    With it, a listener whose ``tls`` or ``ssl`` setting is true.
    """
    context = server_context(*certificate)
    if request.param == "tls":
        server = SmtpServer(login=("notifier", PASSWORD), starttls=context)
    else:
        server = SmtpServer(login=("notifier", PASSWORD), implicit_tls=context)
    settings = email_settings(server.server, username="notifier", password=PASSWORD)
    settings[f"notifier.event_listeners.send_email.{request.param}"] = "true"
    server.start()
    yield server, build(settings)
    server.stop()


def test_an_unknown_certificate_is_refused(tls_server: tuple[SmtpServer, EmailListener]) -> None:
    server, listener = tls_server
    with pytest.raises(EmailDeliveryError) as error:
        listener(record_event("create"))

    assert "CERTIFICATE_VERIFY_FAILED" in str(error.value)
    assert PASSWORD not in str(error.value)
    assert server.received == []


def test_a_trusted_certificate_sends_over_tls(
    tls_server: tuple[SmtpServer, EmailListener],
    certificate: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, listener = tls_server
    monkeypatch.setenv("SSL_CERT_FILE", certificate[0])  # how an operator trusts a private CA

    listener(record_event("create"))

    [mail] = server.received
    assert mail.tls
    assert mail.message["Subject"] == "basicauth:alice created record in blog"
