from __future__ import annotations

import pytest

from notifier.settings import (
    Section,
    SettingsError,
    as_bool,
    as_choices,
    check_known_keys,
    load_settings,
)


def test_bool_is_strict_and_lists_accepted_words():
    assert as_bool("k", "Yes") is True
    assert as_bool("k", "off") is False
    with pytest.raises(SettingsError) as error:
        as_bool("notifier.x.tls", "ture")
    assert str(error.value) == (
        "notifier.x.tls: expected a boolean, one of true, yes, on, 1, false, no, off, 0"
        " (got 'ture')"
    )


def test_int_names_key_value_and_range():
    section = Section(
        {"notifier.event_listeners.redis.pool_size": "ten"}, "notifier.event_listeners.redis."
    )
    with pytest.raises(SettingsError) as error:
        section.int("pool_size", 10, minimum=1)
    assert str(error.value) == (
        "notifier.event_listeners.redis.pool_size: expected a positive integer (got 'ten')"
    )


def test_required_key_is_named():
    with pytest.raises(SettingsError, match=r"^notifier\.a\.url: is required$"):
        Section({}, "notifier.a.").str("url")


def test_choices_suggest_the_closest_word():
    with pytest.raises(SettingsError) as error:
        as_choices("notifier.x.actions", "create updte", ["create", "update", "delete"])
    assert "'updte' is not one of create, update, delete (did you mean 'update'?)" in str(
        error.value
    )


def test_unknown_key_gets_a_suggestion():
    settings = {"notifier.event_listeners.r.use": "m", "notifier.event_listeners.r.ulr": "x"}
    with pytest.raises(SettingsError) as error:
        check_known_keys("notifier.event_listeners.r.", settings, ["use", "url"])
    assert str(error.value) == (
        "notifier.event_listeners.r.ulr: unknown setting (did you mean 'url'?);"
        " accepted here: url, use"
    )


def test_environment_overrides_ini_and_defaults():
    merged = load_settings(
        {"notifier.event_listeners.redis.url": "redis://a"},
        environ={
            "NOTIFIER_EVENT_LISTENERS_REDIS_URL": "redis://b",
            "NOTIFIER_BATCH_MAX_REQUESTS": "5",
        },
    )
    assert merged["notifier.event_listeners.redis.url"] == "redis://b"
    assert merged["notifier.batch_max_requests"] == "5"
    assert merged["notifier.storage_backend"] == "notifier.storage.sqlite"


def test_environment_sets_a_listener_key_absent_from_the_ini():
    merged = load_settings(
        {
            "notifier.event_listeners": "send_email redis",
            "notifier.event_listeners.send_email.use": "notifier.listeners.email",
        },
        environ={
            "NOTIFIER_EVENT_LISTENERS_REDIS_POOL_SIZE": "4",
            "NOTIFIER_EVENT_LISTENERS_SEND_EMAIL_PASSWORD": "s3cret",
            "NOTIFIER_OUTBOX_MAX_ATTEMPTS": "3",
            "UNRELATED": "x",
        },
    )
    assert merged["notifier.event_listeners.redis.pool_size"] == "4"
    assert merged["notifier.event_listeners.send_email.password"] == "s3cret"
    assert merged["notifier.outbox.max_attempts"] == "3"
    assert "notifier.event_listeners.send.email_password" not in merged
