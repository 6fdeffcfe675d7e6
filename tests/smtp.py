"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, keeping what it receives.

``SmtpServer`` can require a login, and can refuse every message with a
given reply (an injected fault) to test how a listener reports a refusal.
"""

from __future__ import annotations

import email
import email.policy
import socket
from dataclasses import dataclass, field
from email.message import EmailMessage
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

    @property
    def body(self) -> str:
        """The decoded text body, with line ends as Python writes them."""
        return str(self.message.get_content()).replace("\r\n", "\n")


@dataclass
class SmtpServer:
    """aiosmtpd's threaded Controller with a handler that stores messages."""

    login: tuple[str, str] | None = None
    refuse_with: str | None = None
    received: list[Received] = field(default_factory=list)
    port: int = field(default_factory=free_port)

    def __post_init__(self) -> None:
        kwargs: dict[str, Any] = {}
        if self.login:
            # Plain-text AUTH is fine on 127.0.0.1; it keeps the tests free of certificates.
            kwargs = {"authenticator": self._authenticate, "auth_require_tls": False}
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
        self.received.append(Received(str(envelope.mail_from), rcpt_tos, message, raw))
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
