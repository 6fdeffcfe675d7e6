"""An INI written for Kinto: kinto.* keys read as notifier.*, one INFO line, strict."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from webtest import TestApp

from notifier import main, shutdown
from notifier.settings import SettingsError
from notifier.settings import translate_kinto_keys as translate
from tests.conftest import ALICE, SECRET
from tests.eventing import listener, make_app


def test_a_kinto_ini_starts_with_its_plugins_and_listeners(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="notifier.settings")
    app = TestApp(
        main(
            {},
            **{
                "kinto.storage_url": str(tmp_path / "kinto.sqlite"),
                "kinto.userid_hmac_secret": SECRET,
                "kinto.includes": "kinto.plugins.flush kinto.plugins.prometheus",
                "kinto.event_listeners": "rec",
                "kinto.event_listeners.rec.use": "tests.listeners.recorder",
                "kinto.permission_backend": "kinto.core.permission.postgresql",
                "notifier.relay.in_process": "false",
            },
        )
    )
    app.put_json("/v1/buckets/b", {}, headers=ALICE, status=201)
    assert [event.action for event in listener(app, "rec").events] == ["create"]
    app.post("/v1/__flush__", status=202)
    assert b"notifier_events_total" in app.get("/v1/__metrics__", status=200).body
    shutdown(app.app.registry)
    [line] = [r.getMessage() for r in caplog.records if r.name == "notifier.settings"]
    assert line == (
        "read Kinto settings as notifier's: kinto.event_listeners -> notifier.event_listeners,"
        " kinto.event_listeners.rec.use -> notifier.event_listeners.rec.use,"
        " kinto.includes -> notifier.includes,"
        " kinto.permission_backend (dropped),"
        " kinto.storage_url -> notifier.storage_url,"
        " kinto.userid_hmac_secret -> notifier.userid_hmac_secret"
    )


def test_a_kinto_test_servers_settings_translate() -> None:
    kinto = {
        "kinto.includes": "kinto.plugins.accounts kinto.plugins.flush",
        "multiauth.policies": "account",
        "multiauth.policy.account.use": "kinto.plugins.accounts.AccountsPolicy",
        "kinto.account_create_principals": "system.Everyone",
        "kinto.account_write_principals": "account:user",
        "kinto.bucket_create_principals": "account:user",
        "kinto.experimental_permissions_endpoint": "true",
        "kinto.storage_backend": "kinto.core.storage.postgresql",
        "pyramid.debug_all": "false",
    }
    assert translate(kinto) == {
        "notifier.includes": "notifier.plugins.accounts notifier.plugins.flush",
        "notifier.auth_policies": "account",
        "notifier.account_create_principals": "system.Everyone",
        "notifier.account_write_principals": "account:user",
        "notifier.bucket_create_principals": "account:user",
        "notifier.experimental_permissions_endpoint": "true",
        "notifier.storage_backend": "notifier.storage.postgresql",
        "pyramid.debug_all": "false",
    }


def test_a_kinto_key_without_equivalent_stops_the_start(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as raised:
        make_app(tmp_path, **{"kinto.record_read_principals": "system.Everyone"})
    assert str(raised.value) == (
        "kinto.record_read_principals: this Kinto setting has no notifier equivalent"
    )


def test_a_kinto_plugin_without_equivalent_stops_the_start() -> None:
    with pytest.raises(SettingsError) as raised:
        translate({"kinto.includes": "kinto.plugins.history"})
    assert str(raised.value) == (
        "kinto.includes: 'kinto.plugins.history' has no notifier equivalent; known:"
        " kinto.core.storage.postgresql, kinto.plugins.accounts, kinto.plugins.flush,"
        " kinto.plugins.prometheus"
        " (got 'kinto.plugins.history')"
    )


def test_an_unknown_auth_policy_stops_the_start() -> None:
    with pytest.raises(SettingsError) as raised:
        translate({"multiauth.policies": "account fxa"})
    assert str(raised.value) == (
        "multiauth.policies: policy 'fxa' has no notifier equivalent; known: account, basicauth"
    )
    with pytest.raises(SettingsError) as raised:
        translate({"multiauth.policy.fxa.use": "kinto_fxa.authentication.FxAPolicy"})
    assert str(raised.value) == (
        "multiauth.policy.fxa.use: policy 'fxa' has no notifier equivalent"
        " (got 'kinto_fxa.authentication.FxAPolicy')"
    )


def test_a_key_set_both_ways_is_refused() -> None:
    with pytest.raises(SettingsError) as raised:
        translate({"kinto.paginate_by": "5", "notifier.paginate_by": "6"})
    assert str(raised.value) == (
        "kinto.paginate_by: is set twice, also as notifier.paginate_by (got '5')"
    )
