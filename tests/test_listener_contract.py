"""The listener contract, checked when a listener loads; settings however a listener reads them."""

from __future__ import annotations

import pytest
from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationConflictError

from notifier import shutdown
from notifier.settings import SettingsError, load_settings
from tests.eventing import ALICE, create_collection, listener, make_app

L = "notifier.event_listeners"


def refuse(tmp_path, **settings) -> str:
    with pytest.raises(SettingsError) as error:
        make_app(tmp_path, **settings)
    return str(error.value)


def test_a_function_is_a_listener(tmp_path):
    app = make_app(tmp_path, **{L: "f", f"{L}.f.use": "tests.listeners.function_only"})
    create_collection(app)
    received = app.app.registry.function_events
    assert [event.payload["resource_name"] for event in received] == ["bucket", "collection"]
    loaded = app.app.registry.notifier.listeners[0]
    assert loaded.heartbeat() is None and loaded.timeouts() == {}


def test_a_listener_that_reads_its_settings_with_items_loads(tmp_path):
    """On the old main, the loader saw no key read by name and refused 'tag'."""
    app = make_app(
        tmp_path, **{L: "it", f"{L}.it.use": "tests.listeners.items_reader", f"{L}.it.tag": "x"}
    )
    app.put_json("/v1/buckets/b", {}, headers=ALICE, status=201)
    assert listener(app, "it").received == [("x", "create")]


def test_a_declared_listener_refuses_an_unknown_key_with_a_suggestion(tmp_path):
    message = refuse(
        tmp_path,
        **{L: "m", f"{L}.m.use": "tests.listeners.misshapen", f"{L}.m.shap": "deliver"},
    )
    assert message == (
        "notifier.event_listeners.m.shap: unknown setting (did you mean 'shape'?);"
        " accepted here: actions, buckets, collections, ids, resources, shape, use"
    )


@pytest.mark.parametrize(
    ("shape", "problem"),
    [
        ("deliver", "deliver() must accept (events): too many positional arguments"),
        ("filter", "event_filter is a str, not a notifier.delivery.filters.EventFilter"),
        ("number", "load_from_config returned int, not a listener (a callable taking the event)"),
    ],
)
def test_a_listener_that_breaks_the_contract_is_named_with_what_is_wrong(tmp_path, shape, problem):
    message = refuse(
        tmp_path, **{L: "m", f"{L}.m.use": "tests.listeners.misshapen", f"{L}.m.shape": shape}
    )
    assert message == (
        f"notifier.event_listeners.m.use: listener 'm': {problem} (got 'tests.listeners.misshapen')"
    )


def test_a_lease_shorter_than_a_listeners_timeouts_names_both_keys(tmp_path, redis_url):
    message = refuse(
        tmp_path,
        **{
            L: "q",
            f"{L}.q.use": "notifier.listeners.redis",
            f"{L}.q.url": redis_url,
            f"{L}.q.socket_timeout": "2",
            f"{L}.q.pool_timeout": "1.5",
            "notifier.outbox.lease": "3",
        },
    )
    assert message == (
        "notifier.outbox.lease: must be longer than a delivery to listener 'q' may take:"
        " notifier.event_listeners.q.pool_timeout (1.5 s)"
        " + notifier.event_listeners.q.socket_timeout (2 s) = 3.5 s (got '3')"
    )


def test_a_listener_named_like_a_heartbeat_is_a_conflict_naming_both_places(tmp_path, redis_url):
    """On the old main, a listener called 'outbox' silently replaced the outbox heartbeat."""
    with pytest.raises(ConfigurationConflictError) as error:
        make_app(
            tmp_path,
            **{
                L: "outbox",
                f"{L}.outbox.use": "notifier.listeners.redis",
                f"{L}.outbox.url": redis_url,
            },
        )
    message = str(error.value)
    assert "('notifier.heartbeat', 'outbox')" in message
    assert 'config.add_heartbeat("outbox", OutboxHealth.from_settings(settings))' in message
    assert "config.add_listener(loaded)" in message


def test_two_capabilities_of_one_name_conflict(tmp_path):
    def plugin_a(config):
        config.add_capability("search", "one")

    def plugin_b(config):
        config.add_capability("search", "two")

    settings = {
        "notifier.storage_url": str(tmp_path / "n.sqlite"),
        "notifier.userid_hmac_secret": "a-test-secret-of-at-least-32-characters",
    }
    config = Configurator(settings=load_settings(settings))
    with pytest.raises(ConfigurationConflictError) as error, config:
        config.include("notifier")
        config.include(plugin_a)
        config.include(plugin_b)
    shutdown(config.registry)
    message = str(error.value)
    assert "('notifier.capability', 'search')" in message
    assert 'config.add_capability("search", "one")' in message
    assert 'config.add_capability("search", "two")' in message
