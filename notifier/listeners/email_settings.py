"""The email listener's settings, read and checked at start-up.

Every problem is a SettingsError that names the full INI key, the value and
what would be accepted: a bad ``server`` port, a non-strict boolean, ``tls``
together with ``ssl``, a bad address, an unknown template placeholder.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from email.utils import getaddresses
from typing import ClassVar

from notifier.listeners.email_template import EmailTemplates, check_template
from notifier.settings import Section, SettingsError

DEFAULT_SERVER = "localhost:25"
DEFAULT_SUBJECT = "{user_id} {action}d {resource_name} in {bucket_id}"
DEFAULT_BODY = (
    "{user_id} {action}d {resource_name} {uri}\n\ntimestamp: {timestamp}\nevent: {event_id}"
)
ADDRESS_WORDS = "an email address such as notifier@example.com"

_SERVER = re.compile(r"(?:\[(?P<ipv6>[^\]]+)\]|(?P<host>[^:\s\[\]]+))(?::(?P<port>\S*))?")
_ADDR_SPEC = re.compile(r"[^@\s<>()\[\],;:\"\\]+@[^@\s<>()\[\],;:\"\\]+")


@dataclass(frozen=True)
class EmailSettings:
    """SMTP connection, addresses and templates of one email listener."""

    KEYS: ClassVar[tuple[str, ...]] = (
        "server",
        "tls",
        "ssl",
        "username",
        "password",
        "from",
        "recipients",
        "subject",
        "body",
    )

    host: str
    port: int
    sender: str
    recipients: list[str]
    templates: EmailTemplates
    tls: bool = False
    ssl: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @classmethod
    def from_section(cls, section: Section) -> EmailSettings:
        """Read the settings under ``section.prefix``; raise SettingsError."""
        tls, ssl = section.bool("tls", False), section.bool("ssl", False)
        if tls and ssl:
            problem = f"cannot be true together with {section.key('tls')}; choose one"
            raise SettingsError(section.key("ssl"), problem, section.raw("ssl"))
        host, port = parse_server(section.key("server"), section.str("server", DEFAULT_SERVER), ssl)
        username, password = _credentials(section)
        templates = EmailTemplates(
            subject=check_template(section.key("subject"), section.str("subject", DEFAULT_SUBJECT)),
            body=check_template(section.key("body"), section.str("body", DEFAULT_BODY)),
        )
        return cls(
            host=host,
            port=port,
            tls=tls,
            ssl=ssl,
            username=username,
            password=password,
            sender=check_address(section.key("from"), section.str("from")),
            recipients=_recipients(section),
            templates=templates,
        )


def parse_server(key: str, raw: str, ssl: bool = False) -> tuple[str, int]:
    """``host[:port]`` or ``[ipv6][:port]``; the port defaults to 25, or 465 with ssl."""
    match = _SERVER.fullmatch(raw)
    port_text = match["port"] if match else None
    if match is None or (port_text is not None and not _is_port(port_text)):
        problem = "expected host:port with a port between 1 and 65535, such as localhost:25"
        raise SettingsError(key, problem, raw)
    port = int(port_text) if port_text is not None else (465 if ssl else 25)
    return match["ipv6"] or match["host"], port


def check_address(key: str, raw: str) -> str:
    """Return ``raw`` if it is one address, optionally with a display name."""
    addresses = getaddresses([raw])
    has_control = any(unicodedata.category(char) == "Cc" for char in raw)
    if has_control or len(addresses) != 1 or not _ADDR_SPEC.fullmatch(addresses[0][1]):
        raise SettingsError(key, f"expected {ADDRESS_WORDS}", raw)
    return raw


def _recipients(section: Section) -> list[str]:
    key = section.key("recipients")
    words = section.list("recipients", "")
    if not words:
        raise SettingsError(key, "expected at least one address, such as ops@example.com")
    for word in words:
        if not _ADDR_SPEC.fullmatch(word):
            raise SettingsError(
                key,
                f"{word!r} is not {ADDRESS_WORDS}; separate addresses with spaces or commas",
                section.raw("recipients"),
            )
    return words


def _credentials(section: Section) -> tuple[str | None, str | None]:
    username = section.str("username", "") or None
    password = section.str("password", "") or None
    if username and not password:
        raise SettingsError(
            section.key("password"), f"is required when {section.key('username')} is set"
        )
    if password and not username:
        raise SettingsError(
            section.key("username"), f"is required when {section.key('password')} is set"
        )
    return username, password


def _is_port(text: str) -> bool:
    return text.isascii() and text.isdigit() and 1 <= int(text) <= 65535
