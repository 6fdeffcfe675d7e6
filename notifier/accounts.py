"""Account passwords: the check the accounts plugin's ``account`` policy and the
push service share, so that both answer the same Basic credentials alike.

An account is the ``account`` resource in storage (as Kinto's), its
``password`` a bcrypt hash.  bcrypt is slow on purpose (a quarter of a second
at cost 12), so a pair that matched once is remembered, per process, by a
keyed digest of the pair, together with the hash it matched: a changed
password has another hash and is checked again.

Imports only ``notifier.storage`` and bcrypt: never ``notifier.http`` or
Pyramid (the push service uses it).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections import OrderedDict
from collections.abc import Mapping

import bcrypt

from notifier.storage import Session

PREFIX = "account:"
RESOURCE = "account"
CACHE_SIZE = 1024


def stored_account(session: Session, user: str) -> dict[str, object] | None:
    """The account named ``user``, read in ``session``."""
    return session.get(RESOURCE, "", user)


class AccountPasswords:
    """``account:<id>`` for the right password of an account, None for anything else."""

    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)  # the cache keys mean nothing outside this process
        self._matched: OrderedDict[bytes, str] = OrderedDict()
        self._lock = threading.Lock()

    def userid(self, account: Mapping[str, object] | None, user: str, password: str) -> str | None:
        """Check ``password`` against ``account`` (as stored, or None when there is none)."""
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
