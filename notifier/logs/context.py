"""The id of the request being served, as a context variable, and what a valid one is.

A context variable rather than a thread-local: it is per thread for
waitress's threads, and per task should an asyncio service set it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

#: The header a client (or a proxy in front) may send, and that every response carries.
HEADER = "X-Request-Id"
#: What a client's id may be: 1 to 128 characters of letters, digits, ``.``, ``_``, ``-``
#: (safe in a header, a log line, a Redis message and a shell, unquoted).
VALID = re.compile(r"[A-Za-z0-9._-]{1,128}")

_current: ContextVar[str | None] = ContextVar("notifier_request_id", default=None)


def new_request_id() -> str:
    """A fresh id: 32 hex digits of a random UUID."""
    return uuid.uuid4().hex


def accept_request_id(sent: str | None) -> str:
    """The client's id when it is valid, else a fresh one (an absent or empty one too)."""
    if sent is not None and VALID.fullmatch(sent):
        return sent
    return new_request_id()


def current_request_id() -> str | None:
    """The id of the request this code runs for, or None outside any request."""
    return _current.get()


@contextmanager
def request_id_scope(request_id: str | None) -> Iterator[None]:
    """Make ``request_id`` the current one inside the block, and restore the previous after."""
    token = _current.set(request_id)
    try:
        yield
    finally:
        _current.reset(token)
