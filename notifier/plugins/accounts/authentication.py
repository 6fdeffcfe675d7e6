"""The ``account`` authentication policy: Basic credentials checked against bcrypt hashes.

bcrypt is slow on purpose (a quarter of a second at cost 12), so a pair that
matched once is remembered, per process, by a keyed digest of the pair,
together with the hash it matched: a changed password has another hash and
is checked again.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections import OrderedDict

import bcrypt
from pyramid.request import Request

from notifier.delivery.changes import ENVIRON_KEY
from notifier.state import state_of
from notifier.storage import transaction

PREFIX = "account:"
RESOURCE = "account"
CACHE_SIZE = 1024


def hash_password(password: str, rounds: int) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds)).decode()


def _stored_account(request: Request, user: str) -> dict[str, object] | None:
    """The account, read in the request's transaction when it has one."""
    state = request.environ.get(ENVIRON_KEY)
    if state is not None:
        return state.session.get(RESOURCE, "", user)
    with transaction(state_of(request.registry).storage, write=False) as session:
        return session.get(RESOURCE, "", user)


class AccountIdentifier:
    """``account:<id>`` for the credentials of an account, None for any others."""

    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)  # the cache keys mean nothing outside this process
        self._matched: OrderedDict[bytes, str] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, request: Request, user: str, password: str) -> str | None:
        account = _stored_account(request, user)
        if account is None or not isinstance(account.get("password"), str):
            return None
        stored = str(account["password"])
        key = hmac.new(self._key, f"{user}:{password}".encode(), hashlib.sha256).digest()
        with self._lock:
            if self._matched.get(key) == stored:
                self._matched.move_to_end(key)
                return PREFIX + user
        if not bcrypt.checkpw(password.encode(), stored.encode()):
            return None
        with self._lock:
            self._matched[key] = stored
            while len(self._matched) > CACHE_SIZE:
                self._matched.popitem(last=False)
        return PREFIX + user
