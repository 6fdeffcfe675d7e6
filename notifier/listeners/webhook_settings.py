"""The webhook listener's settings, read and checked at start-up.

Each problem is a one-line SettingsError naming the full INI key, the value
and what would be accepted: a URL that is not http(s), a secret that is not
``whsec_`` + base64, a header line that is not ``Name: value`` or that would
replace a header the listener sets, and an endpoint whose host resolves to an
address inside the network while ``allow_private_addresses`` is false.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import logging
import re
import socket
from dataclasses import dataclass, field
from typing import ClassVar
from urllib.parse import urlsplit

from notifier.settings import Section, SettingsError

log = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"
#: The Standard Webhooks specification: secrets of 24 to 64 random bytes.
SECRET_BYTES = (24, 64)
DEFAULT_TIMEOUT = 10.0
#: Headers the listener writes itself: the INI's ``headers`` cannot replace them.
RESERVED_HEADERS = frozenset(
    {
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
        "content-type",
        "content-length",
        "transfer-encoding",
        "host",
        "connection",
    }
)
#: RFC 9110 token: the characters a header name may have.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
#: A header value: visible ASCII, spaces and tabs; no CR, LF or other controls.
_FIELD_VALUE = re.compile(r"[\x20-\x7e\t]*")
GENERATE_SECRET = (
    "python -c \"import base64, secrets; print('whsec_' + base64.b64encode("
    'secrets.token_bytes(32)).decode())"'
)


class PrivateAddress(Exception):
    """The endpoint's host resolves to an address inside the network."""


@dataclass(frozen=True)
class Endpoint:
    """One URL the listener POSTs to."""

    url: str
    scheme: str
    host: str
    port: int
    target: str  # the path and query, as sent on the request line

    @property
    def label(self) -> str:
        """The URL without its path and query, which often carry a token: for logs."""
        path = "/..." if self.target not in ("", "/") else "/"
        return f"{self.scheme}://{_netloc(self.host, self.port, self.scheme)}{path}"


@dataclass(frozen=True)
class WebhookSettings:
    """Endpoints, signing keys, timeout and extra headers of one webhook listener."""

    KEYS: ClassVar[tuple[str, ...]] = (
        "url",
        "secret",
        "timeout",
        "headers",
        "allow_private_addresses",
    )

    endpoints: tuple[Endpoint, ...]
    keys: tuple[bytes, ...] = field(repr=False)
    timeout: float = DEFAULT_TIMEOUT
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    allow_private_addresses: bool = False

    @classmethod
    def from_section(cls, section: Section) -> WebhookSettings:
        """Read the settings under ``section.prefix``; raise SettingsError."""
        allow = section.bool("allow_private_addresses", False)
        endpoints = parse_urls(section.key("url"), section.str("url"))
        if not allow:
            for endpoint in endpoints:
                check_public(section.key("url"), endpoint)
        return cls(
            endpoints=endpoints,
            keys=parse_secrets(section.key("secret"), section.str("secret")),
            timeout=section.float("timeout", DEFAULT_TIMEOUT, minimum=0.001),
            headers=parse_headers(section.key("headers"), section.str("headers", "")),
            allow_private_addresses=allow,
        )


def parse_urls(key: str, raw: str) -> tuple[Endpoint, ...]:
    """One or more http(s) URLs separated by whitespace."""
    words = raw.split()
    if not words:
        raise SettingsError(key, "expected one or more http(s) URLs separated by spaces")
    if len(set(words)) != len(words):
        raise SettingsError(key, "lists the same URL twice", raw)
    return tuple(parse_url(key, word) for word in words)


def parse_url(key: str, raw: str) -> Endpoint:
    accepted = "expected an http:// or https:// URL such as https://example.com/hooks"
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        raise SettingsError(key, accepted, raw) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(key, accepted, raw)
    if parts.username is not None or parts.password is not None:
        problem = "a URL with user:password@ is not accepted; send credentials with headers"
        raise SettingsError(key, problem, raw)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    default_port = 443 if parts.scheme == "https" else 80
    return Endpoint(raw, parts.scheme, parts.hostname, port or default_port, target)


def parse_secrets(key: str, raw: str) -> tuple[bytes, ...]:
    """``whsec_<base64>``, or two of them during a rotation; the decoded keys."""
    words = raw.split()
    if not 1 <= len(words) <= 2:
        problem = "expected one whsec_ secret, or two separated by a space during a rotation"
        raise SettingsError(key, problem, f"{len(words)} secrets")
    return tuple(_decode_secret(key, word) for word in words)


def _decode_secret(key: str, word: str) -> bytes:
    low, high = SECRET_BYTES
    accepted = f"expected whsec_ followed by the base64 of {low} to {high} random bytes"
    # The value is a secret: the error shows only its start.
    shown = word[: len(SECRET_PREFIX) + 2] + "..."
    if not word.startswith(SECRET_PREFIX):
        raise SettingsError(key, f"{accepted}; generate one with {GENERATE_SECRET}", shown)
    try:
        decoded = base64.b64decode(word[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise SettingsError(key, f"{accepted} (not valid base64)", shown) from None
    if not low <= len(decoded) <= high:
        raise SettingsError(key, f"{accepted} (decodes to {len(decoded)} bytes)", shown)
    return decoded


def parse_headers(key: str, raw: str) -> tuple[tuple[str, str], ...]:
    """``Name: value`` lines; names are tokens, values have no control characters."""
    headers: list[tuple[str, str]] = []
    for line in raw.split("\n"):
        if not line.strip():
            continue
        name, colon, value = line.strip().partition(":")
        name, value = name.strip(), value.strip()
        if not colon or not _TOKEN.fullmatch(name) or not _FIELD_VALUE.fullmatch(value):
            problem = "expected one 'Name: value' header per line, e.g. 'Authorization: Bearer x'"
            raise SettingsError(key, problem, line.strip())
        if name.lower() in RESERVED_HEADERS:
            problem = f"the listener sets {name} itself; accepted: any other header"
            raise SettingsError(key, problem, line.strip())
        if any(name.lower() == seen.lower() for seen, _ in headers):
            raise SettingsError(key, f"sets {name} twice", line.strip())
        headers.append((name, value))
    return tuple(headers)


def is_public(address: str) -> bool:
    """May a webhook connect to ``address``?  Only globally routable unicast ones.

    ``is_global`` leaves out loopback, private (RFC 1918, IPv6 ULA), link-local
    (169.254.169.254, the cloud metadata service, is one), shared (100.64/10,
    Alibaba's metadata), reserved and unspecified addresses.
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _LOCAL_NAT64:
            return False  # a site's own translator: where it leads cannot be told
        if any(ip in prefix for prefix in _IPV4_IN_LAST_32_BITS):
            # NAT64 and IPv4-compatible forms carry an IPv4 address a gateway
            # may reach: judge that address, not the IPv6 wrapper.
            return is_public(str(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)))
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is not None:
            return is_public(str(embedded))
    return ip.is_global and not ip.is_multicast


#: IPv6 prefixes whose last 32 bits are an IPv4 address (RFC 6052 NAT64, RFC 4291).
_IPV4_IN_LAST_32_BITS = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("::/96"))
#: Local-use NAT64 (RFC 8215), whose embedding depends on the site's prefix length.
_LOCAL_NAT64 = ipaddress.IPv6Network("64:ff9b:1::/48")


def resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to (raises OSError when it does not)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def check_public(key: str, endpoint: Endpoint) -> None:
    """At start: refuse an endpoint whose host resolves to an inside address.

    A host that does not resolve now is let through with a warning: the
    check at delivery (on the address actually connected to) still applies.
    """
    try:
        addresses = resolve(endpoint.host, endpoint.port)
    except OSError as error:
        log.warning("webhook %s: %s does not resolve now (%s)", key, endpoint.label, error)
        return
    inside = [address for address in addresses if not is_public(address)]
    if inside:
        allow = key.rsplit(".", 1)[0] + ".allow_private_addresses"
        problem = (
            f"{endpoint.host} resolves to {', '.join(inside)}, an address inside the network"
            f" (loopback, private, link-local or metadata); set {allow} = true to allow it"
        )
        raise SettingsError(key, problem, endpoint.label)


def _netloc(host: str, port: int, scheme: str) -> str:
    shown = f"[{host}]" if ":" in host else host
    default = 443 if scheme == "https" else 80
    return shown if port == default else f"{shown}:{port}"
