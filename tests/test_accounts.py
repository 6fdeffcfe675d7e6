"""notifier.plugins.accounts: Kinto's accounts, bcrypt, account:<id> principals, policies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import bcrypt
import pytest
from webtest import TestApp

from notifier.settings import SettingsError
from tests.conftest import ALICE, basic_auth
from tests.eventing import listener, make_app

ACCOUNTS = {
    "notifier.includes": "notifier.plugins.accounts",
    "notifier.auth_policies": "account",
    "notifier.account_create_principals": "system.Everyone",
    "notifier.account_write_principals": "account:admin",
    "notifier.account_bcrypt_rounds": "4",  # the tests' hashes need not be slow
}
ALICE_ACCOUNT = basic_auth("alice", "s3cret")
BOB_ACCOUNT = basic_auth("bob", "hunter2")
ADMIN = basic_auth("admin", "root-pw")


def accounts_app(tmp_path: Path, **settings: Any) -> TestApp:
    return make_app(tmp_path, **{**ACCOUNTS, **settings})


def sign_up(app: TestApp, user: str, password: str, status: int = 201) -> Any:
    return app.put_json(f"/v1/accounts/{user}", {"data": {"password": password}}, status=status)


def test_sign_up_stores_a_bcrypt_hash_and_the_account_may_write_itself(tmp_path: Path) -> None:
    app = accounts_app(tmp_path)
    created = sign_up(app, "alice", "s3cret").json
    assert created["permissions"] == {"write": ["account:alice"]}
    stored = created["data"]["password"]
    assert stored != "s3cret" and bcrypt.checkpw(b"s3cret", stored.encode())
    assert app.get("/v1/", headers=ALICE_ACCOUNT).json["user"]["id"] == "account:alice"
    assert app.get("/v1/accounts/alice", headers=ALICE_ACCOUNT).json["data"]["id"] == "alice"


def test_an_account_owns_what_it_creates(tmp_path: Path) -> None:
    app = accounts_app(tmp_path)
    sign_up(app, "alice", "s3cret")
    bucket = app.put_json("/v1/buckets/b", {}, headers=ALICE_ACCOUNT, status=201).json
    assert bucket["permissions"] == {"write": ["account:alice"]}


def test_a_wrong_password_is_not_authenticated(tmp_path: Path) -> None:
    app = accounts_app(tmp_path)
    sign_up(app, "alice", "s3cret")
    response = app.get("/v1/buckets/b", headers=basic_auth("alice", "wrong"), status=401)
    assert response.json["errno"] == 104
    assert "user" not in app.get("/v1/", headers=basic_auth("alice", "wrong")).json


def test_a_changed_password_takes_effect_at_once(tmp_path: Path) -> None:
    app = accounts_app(tmp_path)
    sign_up(app, "alice", "s3cret")
    app.get("/v1/accounts/alice", headers=ALICE_ACCOUNT, status=200)
    app.patch_json(
        "/v1/accounts/alice", {"data": {"password": "new"}}, headers=ALICE_ACCOUNT, status=200
    )
    app.get("/v1/accounts/alice", headers=ALICE_ACCOUNT, status=401)
    app.get("/v1/accounts/alice", headers=basic_auth("alice", "new"), status=200)


def test_users_see_and_change_only_their_own_account(tmp_path: Path) -> None:
    app = accounts_app(tmp_path)
    sign_up(app, "alice", "s3cret")
    sign_up(app, "bob", "hunter2")
    response = app.get("/v1/accounts/alice", headers=BOB_ACCOUNT, status=403)
    assert response.json["message"] == "This user may not read the account 'alice'"
    app.delete("/v1/accounts/alice", headers=BOB_ACCOUNT, status=403)
    listed = app.get("/v1/accounts", headers=BOB_ACCOUNT).json["data"]
    assert [each["id"] for each in listed] == ["bob"]
    app.get("/v1/accounts/alice", status=401)


def test_an_account_user_may_not_create_another_account(tmp_path: Path) -> None:
    app = accounts_app(tmp_path)
    sign_up(app, "alice", "s3cret")
    response = app.put_json(
        "/v1/accounts/eve", {"data": {"password": "x"}}, headers=ALICE_ACCOUNT, status=400
    )
    assert response.json["message"] == "data.id in body: Username and account ID do not match."


def test_administrators_manage_every_account(tmp_path: Path) -> None:
    app = accounts_app(tmp_path)
    sign_up(app, "admin", "root-pw")
    sign_up(app, "alice", "s3cret")
    assert sorted(e["id"] for e in app.get("/v1/accounts", headers=ADMIN).json["data"]) == [
        "admin",
        "alice",
    ]
    app.put_json("/v1/accounts/carol", {"data": {"password": "c"}}, headers=ADMIN, status=201)
    app.get("/v1/accounts/nobody", headers=ADMIN, status=404)
    tombstone = app.delete("/v1/accounts/alice", headers=ADMIN, status=200).json["data"]
    assert tombstone["deleted"] is True
    app.get("/v1/accounts/alice", headers=ALICE_ACCOUNT, status=401)


def test_creation_follows_account_create_principals(tmp_path: Path) -> None:
    app = accounts_app(tmp_path, **{"notifier.account_create_principals": ""})
    response = sign_up(app, "alice", "s3cret", status=401)
    assert response.json["errno"] == 104
    closed = accounts_app(
        tmp_path / "other", **{"notifier.account_create_principals": "system.Authenticated"}
    )
    closed.put_json("/v1/accounts/alice", {"data": {"password": "x"}}, status=401)


def test_post_needs_an_id_and_a_password(tmp_path: Path) -> None:
    app = accounts_app(tmp_path)
    response = app.post_json("/v1/accounts", {"data": {"password": "x"}}, status=400)
    assert response.json["message"] == "data.id in body: Accounts must have an ID."
    response = app.post_json("/v1/accounts", {"data": {"id": "dora"}}, status=400)
    assert response.json["message"] == ("data.password in body: is required: a non-empty string")
    created = app.post_json(
        "/v1/accounts", {"data": {"id": "dora@example.com", "password": "x"}}, status=201
    )
    assert created.json["data"]["id"] == "dora@example.com"
    response = app.put_json("/v1/accounts/no%20space", {"data": {"password": "x"}}, status=400)
    assert response.json["errno"] == 110


def test_basicauth_after_account_takes_the_other_credentials(tmp_path: Path) -> None:
    app = accounts_app(tmp_path, **{"notifier.auth_policies": "account basicauth"})
    sign_up(app, "alice", "s3cret")
    assert app.get("/v1/", headers=ALICE_ACCOUNT).json["user"]["id"] == "account:alice"
    other = app.get("/v1/", headers=ALICE).json["user"]["id"]
    assert other.startswith("basicauth:")


def test_account_writes_are_events(tmp_path: Path) -> None:
    app = accounts_app(
        tmp_path,
        **{
            "notifier.event_listeners": "rec",
            "notifier.event_listeners.rec.use": "tests.listeners.recorder",
        },
    )
    sign_up(app, "alice", "s3cret")
    [event] = listener(app, "rec").events
    assert (event.action, event.resource_name, event.payload["uri"]) == (
        "create",
        "account",
        "/accounts/alice",
    )
    assert event.payload["account_id"] == "alice"


def test_account_policy_without_the_plugin_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as raised:
        make_app(tmp_path, **{"notifier.auth_policies": "account"})
    assert str(raised.value) == (
        "notifier.auth_policies: 'account' needs notifier.plugins.accounts in notifier.includes"
        " (got 'account')"
    )


def test_an_unknown_policy_is_refused_with_a_suggestion(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as raised:
        accounts_app(tmp_path, **{"notifier.auth_policies": "acount"})
    assert str(raised.value) == (
        "notifier.auth_policies: 'acount' is not one of basicauth, account"
        " (did you mean 'account'?) (got 'acount')"
    )


def test_an_unknown_account_setting_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as raised:
        accounts_app(tmp_path, **{"notifier.account_creat_principals": "x"})
    assert str(raised.value).startswith(
        "notifier.account_creat_principals: unknown setting (did you mean 'create_principals'?)"
    )


def test_without_the_plugin_accounts_are_a_404(app: TestApp) -> None:
    app.put_json("/v1/accounts/alice", {"data": {"password": "x"}}, status=404)


def test_no_auth_policy_at_all_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as raised:
        make_app(tmp_path, **{"notifier.auth_policies": ""})
    assert str(raised.value) == (
        "notifier.auth_policies: expected at least one of basicauth (got '')"
    )
