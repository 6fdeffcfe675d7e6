"""Start-up validation of listener settings: the app refuses to start, and says why."""

from __future__ import annotations

import importlib
import inspect
import logging

import pytest

from notifier.settings import SettingsError
from tests.eventing import ALICE, make_app

L = "notifier.event_listeners"


def refuse(tmp_path, **settings) -> str:
    with pytest.raises(SettingsError) as error:
        make_app(tmp_path, **settings)
    return str(error.value)


def test_unknown_use_module_is_named_with_the_built_in_choices(tmp_path):
    message = refuse(tmp_path, **{L: "q", f"{L}.q.use": "notifier.listeners.rediss"})
    assert message == (
        "notifier.event_listeners.q.use: no module named 'notifier.listeners.rediss'"
        " (did you mean 'notifier.listeners.redis'?); built-in listeners:"
        " notifier.listeners.log, notifier.listeners.redis, notifier.listeners.stream,"
        " notifier.listeners.email"
        " (got 'notifier.listeners.rediss')"
    )


def test_module_without_load_from_config(tmp_path):
    message = refuse(tmp_path, **{L: "x", f"{L}.x.use": "tests.listeners.no_factory"})
    assert message == (
        "notifier.event_listeners.x.use: the module has no load_from_config(config, prefix)"
        " (got 'tests.listeners.no_factory')"
    )


def test_listed_name_without_use(tmp_path):
    message = refuse(tmp_path, **{L: "audit"})
    assert message == (
        "notifier.event_listeners.audit.use: is required: 'audit' is listed in"
        " notifier.event_listeners but has no module to use,"
        " e.g. notifier.event_listeners.audit.use = notifier.listeners.log"
    )


def test_import_error_inside_a_users_module_is_shown_as_itself(tmp_path):
    with pytest.raises(ModuleNotFoundError) as error:
        make_app(tmp_path, **{L: "x", f"{L}.x.use": "tests.listeners.broken_import"})
    assert error.value.name == "a_module_that_does_not_exist"


def test_unknown_action_is_refused_with_a_suggestion(tmp_path):
    message = refuse(
        tmp_path,
        **{L: "log", f"{L}.log.use": "notifier.listeners.log", f"{L}.log.actions": "create delet"},
    )
    assert message == (
        "notifier.event_listeners.log.actions: 'delet' is not one of create, update, delete,"
        " read (did you mean 'delete'?) (got 'create delet')"
    )


def test_unknown_resource_is_refused(tmp_path):
    message = refuse(
        tmp_path,
        **{L: "log", f"{L}.log.use": "notifier.listeners.log", f"{L}.log.resources": "records"},
    )
    assert message == (
        "notifier.event_listeners.log.resources: 'records' is not one of bucket, collection,"
        " record (did you mean 'record'?) (got 'records')"
    )


def test_bad_integer_names_key_and_value(tmp_path):
    message = refuse(
        tmp_path, **{L: "r", f"{L}.r.use": "tests.listeners.recorder", f"{L}.r.fail_first": "two"}
    )
    assert message == "notifier.event_listeners.r.fail_first: expected an integer >= 0 (got 'two')"


def test_bad_boolean_names_the_accepted_words(tmp_path):
    message = refuse(tmp_path, **{"notifier.relay.in_process": "ture"})
    assert message == (
        "notifier.relay.in_process: expected a boolean, one of true, yes, on, 1, false, no,"
        " off, 0 (got 'ture')"
    )


def test_unknown_key_under_a_listener_prefix_gets_a_suggestion(tmp_path):
    message = refuse(
        tmp_path, **{L: "log", f"{L}.log.use": "notifier.listeners.log", f"{L}.log.levle": "DEBUG"}
    )
    assert message == (
        "notifier.event_listeners.log.levle: unknown setting"
        " (did you mean 'level'?); accepted here: actions, buckets, collections, ids, level,"
        " logger, resources, use"
    )


def test_bad_log_level(tmp_path):
    message = refuse(
        tmp_path, **{L: "log", f"{L}.log.use": "notifier.listeners.log", f"{L}.log.level": "LOUD"}
    )
    assert message == (
        "notifier.event_listeners.log.level: expected one of DEBUG, INFO, WARNING, ERROR,"
        " CRITICAL (got 'LOUD')"
    )


def test_a_listener_listed_twice(tmp_path):
    message = refuse(tmp_path, **{L: "log log", f"{L}.log.use": "notifier.listeners.log"})
    assert message == "notifier.event_listeners: lists 'log' twice (got 'log log')"


def test_environment_overrides_a_listener_setting(tmp_path, monkeypatch):
    monkeypatch.setenv("NOTIFIER_EVENT_LISTENERS_R_FAIL_FIRST", "three")
    message = refuse(
        tmp_path, **{L: "r", f"{L}.r.use": "tests.listeners.recorder", f"{L}.r.fail_first": "0"}
    )
    assert message.endswith("(got 'three')")


def test_the_log_listener_writes_one_json_line_per_event(tmp_path, caplog):
    app = make_app(
        tmp_path,
        **{
            L: "log",
            f"{L}.log.use": "notifier.listeners.log",
            f"{L}.log.logger": "audit",
            f"{L}.log.level": "warning",
        },
    )
    with caplog.at_level(logging.WARNING, logger="audit"):
        app.put_json("/v1/buckets/b", {"data": {"x": 1}}, headers=ALICE)
    [record] = [r for r in caplog.records if r.name == "audit"]
    assert record.levelno == logging.WARNING
    import json

    message = json.loads(record.getMessage())
    assert (message["action"], message["bucket_id"]) == ("create", "b")
    assert message["impacted_objects"][0]["new"]["x"] == 1


@pytest.mark.parametrize(
    "module",
    [
        "notifier.listeners.log",
        "notifier.listeners.redis",
        "notifier.listeners.stream",
        "notifier.listeners.email",
        "notifier.listeners.webhook",
    ],
)
def test_a_built_in_listener_leaves_its_keys_to_the_loader(module: str) -> None:
    """One check of a listener's keys, in one place: the loader's, from ``SETTINGS_KEYS``.

    A built-in that checked them itself too said the same thing twice, and the
    two lists could drift apart (a key accepted by one, refused by the other).
    """
    imported = importlib.import_module(module)
    assert "check_known_keys" not in inspect.getsource(imported)
    assert isinstance(imported.SETTINGS_KEYS, tuple)
