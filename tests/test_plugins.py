"""notifier.includes: plugins included in order, and what they may add."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyramid.exceptions import ConfigurationError

from notifier.settings import SettingsError
from tests.conftest import ALICE, ALICE_ID
from tests.eventing import listener, make_app

GREETING = "tests.plugins.greeting"


def test_a_plugin_adds_a_route_under_v1(tmp_path: Path) -> None:
    app = make_app(tmp_path, **{"notifier.includes": GREETING})
    answer = app.get("/v1/greeting", headers=ALICE).json
    assert answer == {"greeting": "hello", "user": ALICE_ID}


def test_a_plugin_capability_shows_in_the_root(tmp_path: Path) -> None:
    app = make_app(tmp_path, **{"notifier.includes": GREETING})
    capabilities = app.get("/v1/").json["capabilities"]
    assert capabilities["greeting"] == {
        "description": "Says hello",
        "url": "https://example.com/greeting",
    }


def test_a_plugin_heartbeat_is_reported(tmp_path: Path) -> None:
    app = make_app(tmp_path, **{"notifier.includes": GREETING})
    assert app.get("/v1/__heartbeat__").json["greeting"] is True


def test_a_plugin_listener_gets_events_after_the_ini_ones(tmp_path: Path) -> None:
    app = make_app(
        tmp_path,
        **{
            "notifier.includes": GREETING,
            "notifier.event_listeners": "rec",
            "notifier.event_listeners.rec.use": "tests.listeners.recorder",
        },
    )
    app.put_json("/v1/buckets/b", {}, headers=ALICE)
    app.put_json("/v1/buckets/b/collections/hello", {}, headers=ALICE)
    names = [each.name for each in app.app.registry.notifier.listeners]
    assert names == ["rec", "greeting"]
    [event] = listener(app, "greeting").events
    assert event.payload["collection_id"] == "hello"


def test_plugin_settings_have_defaults_and_are_read_typed(tmp_path: Path) -> None:
    app = make_app(
        tmp_path,
        **{"notifier.includes": GREETING, "notifier.greeting.loud": "yes"},
    )
    assert app.get("/v1/greeting").json["greeting"] == "HELLO"
    assert app.app.registry.settings["notifier.greeting.listen"] == "true"


def test_plugin_settings_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOTIFIER_GREETING_WORD", "bonjour")
    app = make_app(tmp_path, **{"notifier.includes": GREETING})
    assert app.get("/v1/greeting").json["greeting"] == "bonjour"


def test_a_bad_plugin_setting_names_the_key(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as raised:
        make_app(tmp_path, **{"notifier.includes": GREETING, "notifier.greeting.loud": "ture"})
    assert str(raised.value).startswith(
        "notifier.greeting.loud: expected a boolean, one of true, yes, on, 1, false"
    )


def test_an_unknown_plugin_setting_is_refused_with_a_suggestion(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as raised:
        make_app(tmp_path, **{"notifier.includes": GREETING, "notifier.greeting.words": "hi"})
    assert str(raised.value) == (
        "notifier.greeting.words: unknown setting (did you mean 'word'?);"
        " accepted here: listen, loud, word"
    )


def test_a_missing_plugin_module_is_a_settings_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as raised:
        make_app(tmp_path, **{"notifier.includes": "tests.plugins.nothere"})
    assert str(raised.value) == (
        "notifier.includes: no module named 'tests.plugins.nothere' (got 'tests.plugins.nothere')"
    )


def test_an_import_error_inside_a_plugin_is_not_hidden(tmp_path: Path) -> None:
    with pytest.raises(ModuleNotFoundError) as raised:
        make_app(tmp_path, **{"notifier.includes": "tests.plugins.broken"})
    assert raised.value.name == "a_module_that_is_not_installed"


def test_a_module_without_includeme_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as raised:
        make_app(tmp_path, **{"notifier.includes": "tests.plugins.no_includeme"})
    assert str(raised.value) == (
        "notifier.includes: module 'tests.plugins.no_includeme' has no includeme(config)"
        " (got 'tests.plugins.no_includeme')"
    )


def test_a_plugin_listed_twice_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as raised:
        make_app(tmp_path, **{"notifier.includes": f"{GREETING} {GREETING}"})
    assert str(raised.value) == (
        f"notifier.includes: '{GREETING}' is listed twice (got '{GREETING} {GREETING}')"
    )


def test_a_plugin_listener_whose_name_the_ini_uses_is_a_conflict(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as raised:
        make_app(
            tmp_path,
            **{
                "notifier.includes": GREETING,
                "notifier.event_listeners": "greeting",
                "notifier.event_listeners.greeting.use": "tests.listeners.recorder",
            },
        )
    assert str(raised.value) == "listener 'greeting' is defined twice (tests.listeners.recorder)"


def test_plugins_are_included_in_order(tmp_path: Path) -> None:
    app = make_app(tmp_path, **{"notifier.includes": "notifier.plugins.flush " + GREETING})
    assert list(app.app.registry.notifier.capabilities)[-2:] == ["flush_endpoint", "greeting"]
