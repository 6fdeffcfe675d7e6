"""docs/observability.md, its alert rules and its dashboard against real scrapes.

Every metric the rules and the dashboard name exists on a scrape of a served
app, a worker and a push service; every metric those scrapes show is
documented, and every one documented is shown.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from tests.conftest import SECRET
from tests.helpers import ROOT, Process, make_event, stop, wait_for
from tests.ini import write_ini
from tests.metrics_helpers import Scrape, scrape_url
from tests.push_helpers import start_push
from tests.test_metrics_process import send, served, worker_metrics_url

DOCS = ROOT / "docs"
NAME = re.compile(r"\bnotifier_[a-z_]+[a-z]\b")


def dashboard_exprs() -> list[str]:
    dashboard = json.loads((DOCS / "grafana-dashboard.json").read_text())
    panels = [panel for panel in dashboard["panels"] if panel["type"] != "row"]
    assert panels, "the dashboard has panels"
    return [target["expr"] for panel in panels for target in panel["targets"]]


def alert_exprs() -> list[str]:
    rules = yaml.safe_load((DOCS / "prometheus-alerts.yml").read_text())
    found = [rule for group in rules["groups"] for rule in group["rules"]]
    assert {rule["alert"] for rule in found} >= {
        "NotifierListenerBehind",
        "NotifierOutboxDeadLetters",
        "NotifierNoLiveWorkers",
        "NotifierHighErrorRate",
    }
    return [str(rule["expr"]) for rule in found]


def documented() -> set[str]:
    """The metrics of the tables in docs/observability.md (first column)."""
    text = (DOCS / "observability.md").read_text()
    return set(re.findall(r"^\| `(notifier_[a-z_]+)` \|", text, re.MULTILINE))


def test_the_scrape_configuration_in_the_docs_is_yaml_for_each_endpoint():
    text = (DOCS / "observability.md").read_text()
    block = re.search(r"```yaml\n(# prometheus.yml\n.*?)```", text, re.DOTALL)
    assert block is not None
    config = yaml.safe_load(block.group(1))
    jobs = config["scrape_configs"]
    paths = {job["job_name"]: job.get("metrics_path", "/metrics") for job in jobs}
    assert paths == {
        "notifier": "/v1/__metrics__",
        "notifier_workers": "/metrics",
        "notifier_push": "/metrics",
    }


def stack_ini(tmp_path: Path, redis_url: str, listname: str) -> str:
    return write_ini(
        tmp_path / "app.ini",
        {
            "notifier.storage_url": str(tmp_path / "db.sqlite"),
            "notifier.userid_hmac_secret": SECRET,
            "notifier.includes": "notifier.plugins.prometheus",
            "notifier.event_listeners": "queue stream",
            "notifier.event_listeners.queue.use": "notifier.listeners.redis",
            "notifier.event_listeners.queue.url": redis_url,
            "notifier.event_listeners.queue.listname": listname,
            "notifier.event_listeners.stream.use": "notifier.listeners.stream",
            "notifier.event_listeners.stream.url": redis_url,
            "notifier.event_listeners.stream.stream": f"{listname}-stream",
            "notifier.push.port": "0",
        },
    )


def scrapes(tmp_path: Path, redis_url: str, listname: str) -> list[Scrape]:
    """Scrapes of an app that served a few requests, its worker and its push service."""
    ini = stack_ini(tmp_path, redis_url, listname)
    with served(ini) as base:
        assert send(base, "PUT", "/v1/buckets/b") == 201
        app = wait_for(lambda: scrape_url(base + "/v1/__metrics__"))
        push, push_url = start_push(ini)
        worker = Process(
            [
                "-m",
                "notifier.cli",
                "worker",
                ini,
                "--listener",
                "queue",
                "--handler",
                "tests.worker_handlers:record",
                "--metrics-port",
                "0",
            ],
            env={"NOTIFIER_TEST_OUT": str(tmp_path / "out")},
        )
        try:
            return [app, scrape_url(worker_metrics_url(worker)), scrape_url(push_url + "/metrics")]
        finally:
            stop(worker)
            stop(push)


def test_every_metric_the_rules_dashboard_and_docs_name_is_scraped(
    tmp_path, redis_url, redis_client, listname
):
    redis_client.rpush(listname, make_event(1).to_json())
    try:
        found = scrapes(tmp_path, redis_url, listname)
    finally:
        redis_client.delete(f"{listname}-stream")
    samples = set().union(*(scrape.names for scrape in found))
    families = set().union(*(scrape.families for scrape in found))
    for source, exprs in (("dashboard", dashboard_exprs()), ("alert rules", alert_exprs())):
        named = {name for expr in exprs for name in NAME.findall(expr)}
        assert named, source
        assert named - samples - families == set(), f"{source} name metrics no scrape has"
    docs = documented()
    shown = {
        family.name + ("_total" if family.type == "counter" else "")
        for scrape in found
        for family in scrape.families.values()
        if family.name.startswith("notifier_") and not family.name.endswith("_created")
    }
    assert docs - shown == set(), "documented but not scraped"
    assert shown - docs == set(), "scraped but not documented"
