"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, keeping what it receives.

``SmtpServer`` can require a login, and can refuse every message with a
given reply (an injected fault) to test how a listener reports a refusal.
"""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
import subprocess
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Received:
    """One accepted message: the envelope and the parsed message."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    raw: bytes
    tls: bool = False

    @property
    def body(self) -> str:
        """The decoded text body, with line ends as Python writes them."""
        return str(self.message.get_content()).replace("\r\n", "\n")


@dataclass
class SmtpServer:
    """aiosmtpd's threaded Controller with a handler that stores messages."""

    login: tuple[str, str] | None = None
    refuse_with: str | None = None
    starttls: ssl.SSLContext | None = None
    implicit_tls: ssl.SSLContext | None = None
    received: list[Received] = field(default_factory=list)
    port: int = field(default_factory=free_port)

    def __post_init__(self) -> None:
        kwargs: dict[str, Any] = {}
        if self.login:
            # Plain-text AUTH is fine on 127.0.0.1; it keeps the tests free of certificates.
            kwargs = {"authenticator": self._authenticate, "auth_require_tls": False}
        if self.starttls:
            kwargs.update(tls_context=self.starttls, require_starttls=False)
        if self.implicit_tls:
            kwargs.update(ssl_context=self.implicit_tls)
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, **kwargs)

    @property
    def server(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        if self.refuse_with:
            return self.refuse_with
        raw = envelope.original_content or b""
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        rcpt_tos = [str(address) for address in envelope.rcpt_tos]
        # session.ssl is set by STARTTLS; a TLS-from-the-start transport carries its own.
        tls = session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None
        self.received.append(Received(str(envelope.mail_from), rcpt_tos, message, raw, tls))
        return "250 OK"

    def _authenticate(
        self, server: Any, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and self.login == (
            data.login.decode(),
            data.password.decode(),
        )
        # handled=False: aiosmtpd then replies 535 itself on a failure.
        return AuthResult(success=ok, handled=False)


def self_signed_certificate(directory: Path) -> tuple[str, str]:
    """A certificate for 127.0.0.1 that no CA signed: (certfile, keyfile)."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    command = [
        "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        "-keyout", str(key), "-out", str(cert),
    ]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True, timeout=60)
    return str(cert), str(key)


def server_context(certfile: str, keyfile: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certfile, keyfile)
    return context
