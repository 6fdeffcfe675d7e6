"""The SMTP client of the email listener: TLS that checks the server's certificate.

smtplib's ``starttls()`` and ``SMTP_SSL`` without a context encrypt but do
not verify the certificate or the host name, and repoze.sendmail (under
pyramid_mailer) calls them that way; anyone on the path could then read the
password.  These classes pass ``ssl.create_default_context()``: the system's
CAs, or the file named by ``SSL_CERT_FILE`` for a relay with a private CA.
repoze's mailer is used for ``ssl`` too, since pyramid_mailer's own SSL
mailer sets no timeout.
"""

from __future__ import annotations

import smtplib
import ssl
from typing import Any

from repoze.sendmail.mailer import SMTPMailer


class VerifyingSMTP(smtplib.SMTP):
    """``SMTP`` whose STARTTLS verifies the server unless given a context."""

    def starttls(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        kwargs["context"] = kwargs.get("context") or ssl.create_default_context()
        return super().starttls(*args, **kwargs)


class VerifyingSMTP_SSL(smtplib.SMTP_SSL):
    """``SMTP_SSL`` that verifies the server unless given a context."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["context"] = kwargs.get("context") or ssl.create_default_context()
        super().__init__(*args, **kwargs)


class VerifyingSMTPMailer(SMTPMailer):
    """repoze.sendmail's SMTP mailer with certificate checks."""

    smtp = VerifyingSMTP
    smtp_ssl = VerifyingSMTP_SSL


def smtp_mailer(
    host: str, port: int, username: str | None, password: str | None, tls: bool, ssl: bool
) -> SMTPMailer:
    """The mailer pyramid_mailer's ``Mailer(smtp_mailer=...)`` sends with.

    ``tls``: STARTTLS, required; otherwise never.  ``ssl``: TLS from the start.
    """
    return VerifyingSMTPMailer(
        hostname=host,
        port=port,
        username=username,
        password=password,
        no_tls=not tls,
        force_tls=tls,
        ssl=ssl,
    )
