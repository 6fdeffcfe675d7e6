"""Signing and sending one webhook request (Standard Webhooks), over pooled connections.

The signature is ``v1,<base64 HMAC-SHA256>`` of ``{webhook-id}.{timestamp}.{body}``
where ``body`` is exactly the bytes sent.  Each endpoint has its own
urllib3 pool, whose connections check the address they actually reached:
the host is resolved when connecting, so a check of its name at start-up
alone would let DNS point it inside the network later.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import HTTPError, NewConnectionError, TimeoutError

from notifier.delivery.outcomes import Rejected, Unavailable
from notifier.listeners.webhook_settings import Endpoint, PrivateAddress, is_public

#: Connections kept open per endpoint (more are opened under load, then closed).
POOL_SIZE = 8
#: The most of an answer's body read (for the log); the rest is not waited for.
BODY_SHOWN = 512
#: What a ``webhook-id`` may hold: the event ids notifier makes, and no header syntax.
_MESSAGE_ID = re.compile(r"[A-Za-z0-9_.:\-]{1,128}")


def sign(keys: Sequence[bytes], message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value: one ``v1,<sig>`` per key, separated by spaces."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    return " ".join(
        "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        for key in keys
    )


@dataclass(frozen=True)
class Answer:
    """What an endpoint answered."""

    status: int
    body: str

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class _CheckedAddress:
    """Mixin: refuse a connection whose peer is not a public address."""

    allow_private = False

    def _new_conn(self) -> socket.socket:
        sock: socket.socket = super()._new_conn()  # type: ignore[misc]
        if not self.allow_private:
            peer = str(sock.getpeername()[0])
            if not is_public(peer):
                sock.close()
                raise PrivateAddress(f"connected to {peer}, an address inside the network")
        return sock


class _CheckedHTTP(_CheckedAddress, HTTPConnection):
    pass


class _CheckedHTTPS(_CheckedAddress, HTTPSConnection):
    pass


def make_pool(
    endpoint: Endpoint, timeout: float, allow_private: bool
) -> urllib3.HTTPConnectionPool:
    """A thread-safe pool of keep-alive connections to ``endpoint``'s host."""
    base: type[Any] = _CheckedHTTPS if endpoint.scheme == "https" else _CheckedHTTP
    connection = type(base.__name__, (base,), {"allow_private": allow_private})
    pool_class = (
        urllib3.HTTPSConnectionPool if endpoint.scheme == "https" else urllib3.HTTPConnectionPool
    )
    pool = pool_class(
        endpoint.host,
        endpoint.port,
        maxsize=POOL_SIZE,
        block=False,
        timeout=urllib3.Timeout(total=timeout),
        retries=False,
    )
    pool.ConnectionCls = connection
    return pool


def post(
    pool: urllib3.HTTPConnectionPool,
    endpoint: Endpoint,
    body: bytes,
    message_id: str,
    keys: Sequence[bytes],
    extra: Sequence[tuple[str, str]] = (),
) -> Answer:
    """POST ``body`` signed; no redirect is followed (it could lead inside the network).

    Raises Rejected for an id that cannot be a header or a refused address,
    Unavailable when the endpoint cannot be reached or does not answer in
    time, and urllib3's HTTPError for a broken exchange.
    """
    if not _MESSAGE_ID.fullmatch(message_id):
        raise Rejected(f"event id {message_id[:80]!r} cannot be a webhook-id")
    timestamp = int(time.time())
    headers = dict(extra)
    headers.update(
        {
            "Content-Type": "application/json",
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(keys, message_id, timestamp, body),
        }
    )
    try:
        response = pool.urlopen(
            "POST",
            endpoint.target,
            body=body,
            headers=headers,
            redirect=False,
            preload_content=False,
            assert_same_host=False,
        )
    except PrivateAddress as error:
        raise Rejected(f"{endpoint.label}: {error}; delivery refused") from None
    except (TimeoutError, NewConnectionError) as error:
        # NewConnectionError subclasses the timeout error: refused, unreachable, no route.
        raise Unavailable(f"{endpoint.label}: {_reason(error)}") from None
    try:
        shown = response.read(BODY_SHOWN).decode("utf-8", "replace")
    except HTTPError:
        shown = ""
    finally:
        _release(response)
    return Answer(response.status, shown)


def _release(response: Any) -> None:
    """Give the connection back when the answer was read whole, else close it.

    Draining a long answer would wait on the receiver; a new connection costs less.
    """
    if not response.isclosed():
        response.close()
    response.release_conn()


def _reason(error: BaseException) -> str:
    """urllib3's text without the connection's repr in front."""
    return str(error).rpartition("): ")[2]
