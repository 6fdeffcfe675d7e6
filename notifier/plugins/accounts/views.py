"""``/v1/accounts`` and ``/v1/accounts/{id}``, with Kinto's rules.

An account may read, change and delete itself (its ``account:<id>`` holds
``write`` on it); administrators (``account_write_principals``) may do so for
every account, and ``account_read_principals`` may read them all.  Creating
takes ``account_create_principals`` or an administrator; a user already
authenticated by an account may create only their own.  The password is
stored as its bcrypt hash, which the responses show (as Kinto's do).  Each
write is an event like any other (``resource_name`` ``account``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, NoReturn

from cornice import Service
from pyramid.request import Request
from pyramid.response import Response

from notifier.delivery import changes as transaction
from notifier.delivery.changes import Change
from notifier.http.errors import ERRORS, http_error, invalid_parameter
from notifier.http.views import responses
from notifier.http.views.requests import check_write_preconditions, read_body
from notifier.plugins.accounts.authentication import PREFIX, RESOURCE, hash_password
from notifier.storage import Filter, Op, Selection

#: Kinto's account ids: e-mail addresses are welcome.
ID_PATTERN = re.compile(r"^[a-zA-Z0-9][.@a-zA-Z0-9_-]{0,254}$")
ID_RULE = "account ids are letters, digits, '.', '@', '-' or '_', starting with a letter or digit"

accounts = Service(name="accounts", path="/accounts", description="User accounts")
account = Service(name="account", path="/accounts/{id}", description="One user account")


@dataclass(frozen=True)
class AccountsConfig:
    """The plugin's settings, as its ``includeme`` typed them."""

    create: frozenset[str]
    write: frozenset[str]
    read: frozenset[str]
    rounds: int


def _config(request: Request) -> AccountsConfig:
    settings = request.registry.settings
    return AccountsConfig(
        create=settings["notifier.account_create_principals"],
        write=settings["notifier.account_write_principals"],
        read=settings["notifier.account_read_principals"],
        rounds=settings["notifier.account_bcrypt_rounds"],
    )


def _uri(account_id: str) -> str:
    return f"/accounts/{account_id}"


def _deny(request: Request, what: str) -> NoReturn:
    if request.authenticated_userid is None:
        raise http_error(
            401,
            ERRORS.MISSING_AUTH_TOKEN,
            "Authentication required: send Basic credentials (Authorization: Basic ...)",
            headers={"WWW-Authenticate": 'Basic realm="notifier"'},
        )
    raise http_error(403, ERRORS.FORBIDDEN, f"This user may not {what}")


def _is_admin(request: Request) -> bool:
    return bool(set(request.principals) & _config(request).write)


def _may_read_all(request: Request) -> bool:
    return _is_admin(request) or bool(set(request.principals) & _config(request).read)


def _own(request: Request, account_id: str) -> bool:
    return request.authenticated_userid == PREFIX + account_id


def _checked_id(value: object, location: str, name: str) -> str:
    if isinstance(value, str) and ID_PATTERN.match(value):
        return value
    raise http_error(
        400,
        ERRORS.INVALID_RESOURCE_ID,
        f"Invalid id {value!r} in {location}: {ID_RULE}",
        details=[{"location": location, "name": name, "description": ID_RULE}],
    )


def _respond(request: Request, obj: dict[str, Any], status: int = 200) -> Response:
    permissions = {"write": {PREFIX + obj["id"]}}
    return responses.single(request, obj, permissions, status)


def _get(request: Request, account_id: str) -> dict[str, Any] | None:
    return transaction.current(request).session.get(RESOURCE, "", account_id)


def _readable(request: Request, account_id: str) -> dict[str, Any]:
    """The account, for its owner or who may read them all; 404 only for the latter."""
    if not (_own(request, account_id) or _may_read_all(request)):
        _deny(request, f"read the account {account_id!r}")
    found = _get(request, account_id)
    if found is None:
        raise http_error(
            404,
            ERRORS.INVALID_RESOURCE_ID,
            f"There is no account {account_id!r}",
            details={"id": account_id, "resource_name": RESOURCE},
        )
    return found


def _check_creation(request: Request, account_id: str) -> None:
    if _is_admin(request):
        return
    if not set(request.principals) & _config(request).create:
        _deny(request, "create accounts (notifier.account_create_principals)")
    userid = request.authenticated_userid
    if userid is not None and userid.startswith(PREFIX) and userid != PREFIX + account_id:
        raise invalid_parameter("body", "data.id", "Username and account ID do not match.")


def _password(request: Request, data: dict[str, Any], old: dict[str, Any] | None) -> str:
    password = data.get("password")
    if password is None and old is not None:
        return str(old["password"])
    if not isinstance(password, str) or not password:
        raise invalid_parameter("body", "data.password", "is required: a non-empty string")
    return hash_password(password, _config(request).rounds)


def _write(
    request: Request, account_id: str, data: dict[str, Any], old: dict[str, Any] | None
) -> dict[str, Any]:
    state = transaction.current(request)
    obj = {**data, "id": account_id, "password": _password(request, data, old)}
    if old is None:
        saved = state.session.create(RESOURCE, "", obj)
        state.session.set_permissions(_uri(account_id), {"write": {PREFIX + account_id}})
    else:
        saved = state.session.update(RESOURCE, "", obj)
    action = "create" if old is None else "update"
    state.changes.append(
        Change.make(action, RESOURCE, "", old, saved, request.authenticated_userid)
    )
    return saved


@account.get()
def get_account(request: Request) -> Response:
    account_id = _checked_id(request.matchdict["id"], "path", "id")
    return _respond(request, _readable(request, account_id))


@account.put()
def put_account(request: Request) -> Response:
    account_id = _checked_id(request.matchdict["id"], "path", "id")
    body = read_body(request, "record")
    if body.data.get("id", account_id) != account_id:
        raise invalid_parameter("body", "data.id", f"must match the id in the URL ({account_id!r})")
    old = _get(request, account_id)
    if old is None:
        _check_creation(request, account_id)
    elif not (_own(request, account_id) or _is_admin(request)):
        _deny(request, f"change the account {account_id!r}")
    check_write_preconditions(request, old["last_modified"] if old else None, old)
    saved = _write(request, account_id, body.data, old)
    return _respond(request, saved, 201 if old is None else 200)


@account.patch()
def patch_account(request: Request) -> Response:
    account_id = _checked_id(request.matchdict["id"], "path", "id")
    if not (_own(request, account_id) or _is_admin(request)):
        _deny(request, f"change the account {account_id!r}")
    old = _readable(request, account_id)
    check_write_preconditions(request, old["last_modified"], old)
    body = read_body(request, "record")
    data = {k: v for k, v in old.items() if k not in ("id", "last_modified", "password")}
    data.update(body.data)
    return _respond(request, _write(request, account_id, data, old))


@account.delete()
def delete_account(request: Request) -> Response:
    account_id = _checked_id(request.matchdict["id"], "path", "id")
    if not (_own(request, account_id) or _is_admin(request)):
        _deny(request, f"delete the account {account_id!r}")
    old = _readable(request, account_id)
    check_write_preconditions(request, old["last_modified"], old)
    state = transaction.current(request)
    tombstone = state.session.delete(RESOURCE, "", account_id)
    state.session.delete_permissions(_uri(account_id))
    state.changes.append(
        Change.make("delete", RESOURCE, "", old, tombstone, request.authenticated_userid)
    )
    return responses.single(request, tombstone, None)


@accounts.post()
def post_account(request: Request) -> Response:
    body = read_body(request, "record")
    if "id" not in body.data:
        raise invalid_parameter("body", "data.id", "Accounts must have an ID.")
    account_id = _checked_id(body.data["id"], "body", "data.id")
    _check_creation(request, account_id)
    old = _get(request, account_id)
    if old is not None:
        if not (_own(request, account_id) or _may_read_all(request)):
            _deny(request, f"read the account {account_id!r}")
        return _respond(request, old, 200)
    return _respond(request, _write(request, account_id, body.data, None), 201)


@accounts.get()
def list_accounts(request: Request) -> dict[str, Any]:
    """Every account for who may read them all; one's own for an account user."""
    session = transaction.current(request).session
    filters: list[Filter] = []
    if not _may_read_all(request):
        userid = request.authenticated_userid or ""
        if not userid.startswith(PREFIX):
            return {"data": []}
        filters = [Filter("id", Op.EQ, userid[len(PREFIX) :])]
    return {"data": session.list(RESOURCE, "", Selection(filters))}
