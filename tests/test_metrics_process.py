"""Scrapes of real processes: a served app's /v1/__metrics__ and a worker's metrics port."""

from __future__ import annotations

import json
import signal
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from notifier.dev.redis_server import free_port
from tests.cli import notifier, one_line_error
from tests.conftest import ALICE, SECRET
from tests.helpers import Process, make_event, server_answers, wait_for
from tests.ini import write_ini
from tests.metrics_helpers import APP_FAMILIES, Scrape, scrape_url

RECORDS = "/v1/buckets/b/collections/c/records"


def app_ini(tmp_path: Path, redis_url: str, listname: str) -> str:
    """The plugin, a Redis queue, a listener that fails once and one that refuses r1."""
    return write_ini(
        tmp_path / "app.ini",
        {
            "notifier.storage_url": str(tmp_path / "db.sqlite"),
            "notifier.userid_hmac_secret": SECRET,
            "notifier.includes": "notifier.plugins.prometheus",
            "notifier.event_listeners": "queue flaky picky",
            "notifier.event_listeners.queue.use": "notifier.listeners.redis",
            "notifier.event_listeners.queue.url": redis_url,
            "notifier.event_listeners.queue.listname": listname,
            "notifier.event_listeners.flaky.use": "tests.listeners.recorder",
            "notifier.event_listeners.flaky.fail_first": "1",
            "notifier.event_listeners.picky.use": "tests.listeners.rejecting",
            "notifier.event_listeners.picky.reject": "r1",
            "notifier.outbox.backoff_base": "0.05",
            "notifier.relay.interval": "0.1",
        },
    )


@contextmanager
def served(ini: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """``notifier serve INI`` on a free port; yields its base URL."""
    port = free_port()
    process = Process(["-m", "notifier.cli", "serve", ini, "--port", str(port)], env=env)
    try:
        wait_for(lambda: server_answers(port) or process.poll() is not None, timeout=30)
        assert process.poll() is None, process.output
        yield f"http://127.0.0.1:{port}"
    finally:
        process.stop()


def send(base: str, method: str, path: str, body: object = None) -> int:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        base + path, method=method, data=data, headers={**ALICE, "Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def metrics(base: str) -> Scrape:
    return scrape_url(base + "/v1/__metrics__")


def test_a_served_app_counts_requests_deliveries_retries_and_dead_letters(
    tmp_path, redis_url, redis_client, listname
):
    with served(app_ini(tmp_path, redis_url, listname)) as base:
        first = metrics(base)
        assert set(first.families) >= APP_FAMILIES
        for outcome in ("ok", "retry", "dead"):
            assert first.value("notifier_deliveries_total", listener="flaky", outcome=outcome) == 0
        assert first.value("notifier_queue_depth", queue=listname) == 0
        assert send(base, "PUT", "/v1/buckets/b") == 201
        assert send(base, "PUT", "/v1/buckets/b/collections/c") == 201
        assert send(base, "PUT", RECORDS + "/r1", {"data": {}}) == 201
        assert send(base, "PUT", RECORDS + "/r2", {"data": {}}) == 201

        def settled() -> Scrape | None:
            found = metrics(base)
            done = found.value("notifier_deliveries_total", listener="flaky", outcome="ok")
            return found if done == 4 else None

        found = wait_for(settled, timeout=30)
    deliveries = lambda name, outcome: found.value(  # noqa: E731
        "notifier_deliveries_total", listener=name, outcome=outcome
    )
    assert deliveries("flaky", "retry") == 1, "its first call failed: the relay retried"
    assert deliveries("picky", "dead") == 1
    assert deliveries("picky", "ok") == 3
    assert deliveries("queue", "ok") == 4
    assert found.value("notifier_dead_letters", listener="picky") == 1
    assert found.value("notifier_outbox_backlog", listener="flaky") == 0
    assert found.value("notifier_queue_depth", queue=listname) == 4
    created = {"listener": "queue", "action": "create", "resource_name": "record"}
    assert found.value("notifier_events_total", **created) == 2
    requests = found.value(
        "notifier_http_requests_total", method="PUT", route="record-object", status="201"
    )
    assert requests == 2
    assert found.total("notifier_http_requests_total", route="metrics") >= 1


@pytest.mark.slow
def test_processes_sharing_a_multiprocess_folder_report_their_sum(
    tmp_path, redis_url, redis_client, listname
):
    folder = tmp_path / "metrics"
    folder.mkdir()
    ini = app_ini(tmp_path, redis_url, listname)
    env = {"PROMETHEUS_MULTIPROC_DIR": str(folder)}
    with served(ini, env) as one, served(ini, env) as two:
        assert send(one, "PUT", "/v1/buckets/b") == 201
        assert send(two, "PUT", "/v1/buckets/b2") == 201
        assert send(two, "PUT", "/v1/buckets/b3") == 201
        for base in (one, two):
            found = metrics(base)
            created = found.value(
                "notifier_http_requests_total", method="PUT", route="bucket-object", status="201"
            )
            assert created == 3
            assert found.value("notifier_queue_depth", queue=listname) == 3, "read, not summed"


def worker_metrics_url(process: Process) -> str:
    """The URL the worker printed for its metrics."""
    prefix = "worker metrics: "
    line = wait_for(
        lambda: (
            next((each for each in process.lines if each.startswith(prefix)), None)
            or process.poll() is not None
        ),
        timeout=30,
    )
    assert isinstance(line, str), process.output
    return line[len(prefix) :].strip()


def test_a_worker_counts_its_jobs_on_its_metrics_port(tmp_path, redis_url, redis_client, listname):
    redis_client.rpush(listname, *[make_event(n).to_json() for n in range(4)])
    process = Process(
        [
            "-m",
            "notifier.cli",
            "worker",
            "--handler",
            "tests.worker_handlers:fail_odd",
            "--url",
            redis_url,
            "--listname",
            listname,
            "--max-attempts",
            "2",
            "--backoff-base",
            "0.05",
            "--block-timeout",
            "0.2",
            "--metrics-port",
            "0",
        ],
        env={"NOTIFIER_TEST_OUT": str(tmp_path / "out")},
    )
    try:
        url = worker_metrics_url(process)
        first = scrape_url(url)
        assert {
            "notifier_worker_jobs",
            "notifier_worker_job_duration_seconds",
            "notifier_worker_up",
        } <= set(first.families)

        def finished() -> Scrape | None:
            found = scrape_url(url)
            dead = found.value("notifier_worker_jobs_total", queue=listname, outcome="dead")
            return found if dead == 2 else None

        found = wait_for(finished, timeout=30)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        output = process.stop()
    jobs = lambda outcome: found.value(  # noqa: E731
        "notifier_worker_jobs_total", queue=listname, outcome=outcome
    )
    assert (jobs("ok"), jobs("retry"), jobs("dead")) == (2, 2, 2), output
    assert found.value("notifier_worker_job_duration_seconds_count", queue=listname) == 6
    assert found.value("notifier_worker_up", queue=listname) == 1


def test_a_metrics_port_in_use_is_one_line_naming_the_option(redis_url, listname):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = notifier(
            "worker",
            "--handler",
            "tests.worker_handlers:record",
            "--url",
            redis_url,
            "--listname",
            listname,
            "--metrics-port",
            str(port),
        )
    assert done.returncode == 1
    assert one_line_error(done) == (
        f"notifier: --metrics-port: [Errno 98] Address already in use (got '{port}')"
    )
