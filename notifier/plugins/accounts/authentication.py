"""The ``account`` authentication policy: Basic credentials checked against bcrypt hashes.

The check itself (and its cache of pairs that matched) is
``notifier.accounts``, shared with the push service; this module reads the
account in the request's transaction.
"""

from __future__ import annotations

import bcrypt
from pyramid.request import Request

from notifier.accounts import PREFIX, RESOURCE, AccountPasswords, stored_account
from notifier.delivery.changes import ENVIRON_KEY
from notifier.state import state_of
from notifier.storage import transaction

__all__ = ["PREFIX", "RESOURCE", "AccountIdentifier", "hash_password"]


def hash_password(password: str, rounds: int) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds)).decode()


def _stored_account(request: Request, user: str) -> dict[str, object] | None:
    """The account, read in the request's transaction when it has one."""
    state = request.environ.get(ENVIRON_KEY)
    if state is not None:
        return stored_account(state.session, user)
    with transaction(state_of(request.registry).storage, write=False) as session:
        return stored_account(session, user)


class AccountIdentifier:
    """``account:<id>`` for the credentials of an account, None for any others."""

    def __init__(self) -> None:
        self.passwords = AccountPasswords()

    def __call__(self, request: Request, user: str, password: str) -> str | None:
        return self.passwords.userid(_stored_account(request, user), user, password)
