"""The prometheus plugin in-process: /v1/__metrics__, its counters, gauges and settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from webtest import TestApp

from notifier.settings import SettingsError
from tests.eventing import ALICE, RECORDS, create_collection, make_app
from tests.metrics_helpers import APP_FAMILIES, Scrape, scrape_text

PLUGIN = {"notifier.includes": "notifier.plugins.prometheus"}


def scrape(app: TestApp) -> Scrape:
    response = app.get("/v1/__metrics__", status=200)
    assert response.content_type == "text/plain"
    return scrape_text(response.body)


def recorders(tmp_path: Path, names: str, **settings: str) -> TestApp:
    listeners = {
        f"notifier.event_listeners.{n}.use": "tests.listeners.recorder" for n in names.split()
    }
    return make_app(
        tmp_path, **{**PLUGIN, "notifier.event_listeners": names, **listeners, **settings}
    )


def test_every_metric_is_there_from_the_start_without_credentials(tmp_path):
    app = recorders(tmp_path, "audit")
    found = scrape(app)
    assert set(found.families) >= APP_FAMILIES
    assert found.value("notifier_deliveries_total", listener="audit", outcome="retry") == 0
    assert (
        found.value(
            "notifier_events_total", listener="audit", action="delete", resource_name="bucket"
        )
        == 0
    )
    assert found.value("notifier_outbox_backlog", listener="audit") == 0
    assert found.value("notifier_dead_letters", listener="audit") == 0
    assert found.value("notifier_outbox_oldest_age_seconds", listener="audit") == 0


def test_the_capability_is_announced(tmp_path):
    app = recorders(tmp_path, "audit")
    capability = app.get("/v1/").json["capabilities"]["prometheus"]
    assert "/v1/__metrics__" in capability["description"]


def test_requests_are_counted_by_route_name_and_final_status(tmp_path):
    app = recorders(tmp_path, "audit")
    create_collection(app)
    app.post_json(RECORDS, {"data": {"n": 1}}, headers=ALICE, status=201)
    app.get(RECORDS + "/nope", headers=ALICE, status=404)
    app.post_json(RECORDS, {"data": {"n": 1}}, status=401)
    app.get("/v1/no/such/thing", status=404)
    found = scrape(app)
    count = found.value
    assert (
        count("notifier_http_requests_total", method="POST", route="record-plural", status="201")
        == 1
    )
    assert (
        count("notifier_http_requests_total", method="GET", route="record-object", status="404")
        == 1
    )
    assert (
        count("notifier_http_requests_total", method="POST", route="record-plural", status="401")
        == 1
    )
    assert count("notifier_http_requests_total", method="GET", route="unmatched", status="404") == 1
    assert count("notifier_http_request_duration_seconds_count", route="record-plural") == 2
    assert not any("/nope" in str(key) for key in found.samples), "no URL becomes a label"


@pytest.mark.filterwarnings("ignore:Unknown REQUEST_METHOD")
def test_an_unknown_method_is_counted_as_other(tmp_path):
    app = recorders(tmp_path, "audit")
    app.request("/v1/", method="BREW", status="*")
    found = scrape(app)
    assert found.total("notifier_http_requests_total", method="OTHER") == 1


def test_events_and_deliveries_count_per_event_not_per_batch(tmp_path):
    app = recorders(tmp_path, "audit")
    create_collection(app)
    batch = {
        "defaults": {"method": "POST", "path": RECORDS},
        "requests": [{"body": {"data": {"n": n}}} for n in range(3)],
    }
    app.post_json("/v1/batch", batch, headers=ALICE, status=200)
    found = scrape(app)
    created = {"listener": "audit", "action": "create"}
    assert found.value("notifier_events_total", resource_name="record", **created) == 3
    assert found.value("notifier_events_total", resource_name="collection", **created) == 1
    assert found.value("notifier_deliveries_total", listener="audit", outcome="ok") == 5
    assert found.value("notifier_delivery_duration_seconds_count", listener="audit") == 3


def test_a_failure_counts_a_retry_and_the_relay_the_delivery(tmp_path):
    app = recorders(
        tmp_path,
        "audit",
        **{"notifier.event_listeners.audit.fail_first": "1", "notifier.outbox.backoff_base": "0"},
    )
    app.put_json("/v1/buckets/b", {}, headers=ALICE, status=201)
    found = scrape(app)
    assert found.value("notifier_deliveries_total", listener="audit", outcome="retry") == 1
    assert found.value("notifier_deliveries_total", listener="audit", outcome="ok") == 0
    assert found.value("notifier_outbox_backlog", listener="audit") == 1
    assert found.value("notifier_outbox_oldest_age_seconds", listener="audit") >= 0
    assert app.app.registry.notifier.relay.run_once() == 1
    found = scrape(app)
    assert found.value("notifier_deliveries_total", listener="audit", outcome="ok") == 1
    assert found.value("notifier_outbox_backlog", listener="audit") == 0
    assert found.value("notifier_delivery_duration_seconds_count", listener="audit") == 2


def test_a_rejected_event_counts_as_dead_and_shows_in_dead_letters(tmp_path):
    app = make_app(
        tmp_path,
        **PLUGIN,
        **{
            "notifier.event_listeners": "picky",
            "notifier.event_listeners.picky.use": "tests.listeners.rejecting",
            "notifier.event_listeners.picky.reject": "r1",
        },
    )
    create_collection(app)
    app.put_json(RECORDS + "/r1", {"data": {}}, headers=ALICE, status=201)
    found = scrape(app)
    assert found.value("notifier_deliveries_total", listener="picky", outcome="dead") == 1
    assert found.value("notifier_deliveries_total", listener="picky", outcome="ok") == 2
    assert found.value("notifier_dead_letters", listener="picky") == 1
    assert found.value("notifier_outbox_backlog", listener="picky") == 0


def test_queue_gauges_read_redis(tmp_path, redis_url, redis_client, listname):
    app = make_app(
        tmp_path,
        **PLUGIN,
        **{
            "notifier.event_listeners": "queue",
            "notifier.event_listeners.queue.use": "notifier.listeners.redis",
            "notifier.event_listeners.queue.url": redis_url,
            "notifier.event_listeners.queue.listname": listname,
        },
    )
    assert scrape(app).value("notifier_queue_depth", queue=listname) == 0
    create_collection(app)
    redis_client.rpush(f"{listname}:processing:w1", "x")
    redis_client.rpush(f"{listname}:dead", "{}")
    redis_client.sadd(f"{listname}:workers", "w1")
    found = scrape(app)
    assert found.value("notifier_queue_depth", queue=listname) == 2
    assert found.value("notifier_queue_inflight", queue=listname) == 1
    assert found.value("notifier_queue_dead_letters", queue=listname) == 1
    assert found.value("notifier_queue_workers", queue=listname) == 0, "no live heartbeat"
    redis_client.set(f"{listname}:worker:w1", "{}", ex=60)
    assert scrape(app).value("notifier_queue_workers", queue=listname) == 1


def test_a_redis_that_does_not_answer_leaves_only_its_gauges_out(tmp_path, caplog):
    app = make_app(
        tmp_path,
        **PLUGIN,
        **{
            "notifier.event_listeners": "queue",
            "notifier.event_listeners.queue.use": "notifier.listeners.redis",
            "notifier.event_listeners.queue.url": "redis://127.0.0.1:1/0",
            "notifier.event_listeners.queue.listname": "nowhere",
        },
    )
    found = scrape(app)
    assert "notifier_queue_depth" in found.families
    assert found.value("notifier_queue_depth", queue="nowhere") is None
    assert found.value("notifier_outbox_backlog", listener="queue") == 0
    assert "redis queue 'nowhere'" in caplog.text


def test_a_bad_scrape_timeout_is_refused(tmp_path):
    with pytest.raises(SettingsError) as raised:
        recorders(tmp_path, "audit", **{"notifier.prometheus.scrape_timeout": "soon"})
    assert str(raised.value) == (
        "notifier.prometheus.scrape_timeout: expected a number >= 0.001 (got 'soon')"
    )


def test_an_unknown_key_is_refused_with_a_suggestion(tmp_path):
    with pytest.raises(SettingsError) as raised:
        recorders(tmp_path, "audit", **{"notifier.prometheus.scrape_timout": "1"})
    assert "notifier.prometheus.scrape_timout" in str(raised.value)
    assert "scrape_timeout" in str(raised.value)


def test_a_multiprocess_folder_that_does_not_exist_is_refused(tmp_path, monkeypatch):
    missing = tmp_path / "missing"
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(missing))
    with pytest.raises(SettingsError) as raised:
        recorders(tmp_path, "audit")
    assert str(raised.value) == (
        f"PROMETHEUS_MULTIPROC_DIR: must name an existing, empty folder (got '{missing}')"
    )


def test_a_multiprocess_folder_set_too_late_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    with pytest.raises(SettingsError) as raised:
        recorders(tmp_path, "audit")
    assert str(raised.value) == (
        "PROMETHEUS_MULTIPROC_DIR: was set after prometheus_client was imported: set it in"
        f" the environment of the processes before they start (got '{tmp_path}')"
    )


def test_invented_methods_share_one_cached_series():
    """A client inventing a method per request must not grow the cache without end."""
    from prometheus_client import CollectorRegistry

    from notifier.plugins.prometheus.instruments import HttpMetrics

    metrics = HttpMetrics(CollectorRegistry())
    for number in range(50):
        metrics.observe(f"BREW{number}", "root", 405, 0.001)
    assert len(metrics._children) == 1
    assert metrics.requests.labels("OTHER", "root", "405")._value.get() == 50
