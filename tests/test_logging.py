"""Log lines: the request id on each, the request summary, and notifier.log_format = json."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from webtest import TestApp

from notifier.delivery.changes import BeforeCommit
from notifier.delivery.events import ResourceChanged
from notifier.dev.redis_server import free_port
from notifier.logs.records import JsonFormatter, RequestIdFilter
from notifier.logs.setup import apply_log_format
from notifier.settings import SettingsError
from notifier.worker import WorkerConfig, run
from tests.cli import NOTIFIER, notifier
from tests.conftest import ALICE, ALICE_ID, SECRET
from tests.eventing import with_listeners
from tests.helpers import make_event, open_app, server_answers, wait_for

ROOT = Path(__file__).resolve().parent.parent
SUMMARY = "notifier.request.summary"


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    """A real handler on the root logger, its format naming the request id; notifier at INFO."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(request_id)s|%(name)s|%(message)s"))
    root, ours = logging.getLogger(), logging.getLogger("notifier")
    level = ours.level
    root.addHandler(handler)
    ours.setLevel(logging.INFO)
    try:
        yield out
    finally:
        ours.setLevel(level)
        root.removeHandler(handler)


def logged(out: io.StringIO, logger: str) -> list[tuple[str, str]]:
    """(request id, message) of each line ``logger`` wrote."""
    found = []
    for line in out.getvalue().splitlines():
        parts = line.split("|", 2)
        if len(parts) == 3 and parts[1] == logger:
            found.append((parts[0], parts[2]))
    return found


def test_every_line_of_a_request_carries_its_id(tmp_path, lines):
    """The handler existed before the app: the app gave it the filter at start."""
    app = with_listeners(
        tmp_path,
        "log flaky",
        **{
            "notifier.event_listeners.log.use": "notifier.listeners.log",
            "notifier.event_listeners.flaky.fail_first": "1",
        },
    )
    logging.getLogger("notifier.test").info("outside any request")
    app.put_json("/v1/buckets/b", {}, headers={**ALICE, "X-Request-Id": "line-1"}, status=201)
    assert logged(lines, "notifier.test") == [("-", "outside any request")]
    [(event_id, event_line)] = logged(lines, "notifier.delivery.events")
    assert event_id == "line-1" and json.loads(event_line)["request_id"] == "line-1"
    [(failure_id, failure)] = logged(lines, "notifier.delivery.dispatcher")
    assert failure_id == "line-1" and failure.startswith("listener flaky failed on event(s)")
    [(summary_id, summary)] = logged(lines, SUMMARY)
    assert summary_id == "line-1"
    assert (
        summary == f"PUT /v1/buckets/b 201 {summary.split()[3]} userid={ALICE_ID} request_id=line-1"
    )


def summaries(caplog: pytest.LogCaptureFixture, name: str = SUMMARY) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == name]


def test_one_summary_per_request_with_its_fields(app: TestApp, caplog) -> None:
    caplog.set_level(logging.INFO, logger="notifier")
    app.put_json("/v1/buckets/b", {}, headers={**ALICE, "X-Request-Id": "sum-1"}, status=201)
    app.get("/v1/buckets/b", status=401)
    created, refused = summaries(caplog)
    assert (created.levelname, created.method, created.path, created.status) == (
        "INFO",
        "PUT",
        "/v1/buckets/b",
        201,
    )
    assert (created.userid, created.request_id) == (ALICE_ID, "sum-1")
    assert isinstance(created.duration_ms, float) and created.duration_ms >= 0
    assert (refused.status, refused.userid) == (401, None)
    assert len(refused.request_id) == 32


def test_a_server_error_has_its_summary(app: TestApp, caplog) -> None:
    def fail_before_commit(event: BeforeCommit) -> None:
        raise RuntimeError("injected fault before commit")

    app.app.registry.registerHandler(fail_before_commit, (BeforeCommit,))
    caplog.set_level(logging.INFO, logger="notifier")
    app.put_json("/v1/buckets/b", {}, headers={**ALICE, "X-Request-Id": "boom"}, status=500)
    [summary] = summaries(caplog)
    assert (summary.status, summary.request_id) == (500, "boom")


def test_batch_subrequests_have_summaries_with_the_batch_id(app: TestApp, caplog) -> None:
    caplog.set_level(logging.INFO, logger="notifier")
    requests = [{"method": "PUT", "path": "/buckets/b"}, {"method": "GET", "path": "/buckets/x"}]
    app.post_json("/v1/batch", {"requests": requests}, headers={**ALICE, "X-Request-Id": "b-1"})
    subs = summaries(caplog, "notifier.subrequest.summary")
    assert [(s.method, s.path, s.status, s.request_id) for s in subs] == [
        ("PUT", "/v1/buckets/b", 201, "b-1"),
        ("GET", "/v1/buckets/x", 403, "b-1"),
    ]
    [batch] = summaries(caplog)
    assert (batch.path, batch.status, batch.request_id) == ("/v1/batch", 200, "b-1")


def test_the_json_formatter_writes_one_object_with_the_fields() -> None:
    try:
        raise ValueError("bad")
    except ValueError:
        record = logging.getLogger("x").makeRecord(
            "x", logging.ERROR, __file__, 1, "failed %s", ("here",), sys.exc_info(),
            extra={"status": 500, "request_id": "rid"},
        )  # fmt: skip
    line = json.loads(JsonFormatter().format(record))
    assert {k: line[k] for k in ("level", "logger", "message", "request_id", "status")} == {
        "level": "ERROR",
        "logger": "x",
        "message": "failed here",
        "request_id": "rid",
        "status": 500,
    }
    assert line["timestamp"].endswith("+00:00") and "ValueError: bad" in line["exception"]
    plain = logging.LogRecord("y", logging.INFO, __file__, 1, "no request", None, None)
    RequestIdFilter().filter(plain)
    assert "request_id" not in json.loads(JsonFormatter().format(plain))


def test_apply_log_format_gives_each_handler_the_filter_once() -> None:
    handler = logging.StreamHandler(io.StringIO())
    logger = logging.getLogger("notifier.test.apply")
    logger.addHandler(handler)
    try:
        apply_log_format("text")
        apply_log_format("json")
        assert sum(isinstance(f, RequestIdFilter) for f in handler.filters) == 1
        assert isinstance(handler.formatter, JsonFormatter)
    finally:
        logger.removeHandler(handler)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("xml", "notifier.log_format: expected one of text, json (got 'xml')"),
        (
            "jsno",
            "notifier.log_format: expected one of text, json (did you mean 'json'?)"
            " (got 'jsno')",
        ),
    ],
)  # fmt: skip
def test_a_bad_log_format_stops_the_start_naming_it(tmp_path, value, message) -> None:
    with pytest.raises(SettingsError) as raised:
        open_app(
            **{
                "notifier.storage_url": str(tmp_path / "n.sqlite"),
                "notifier.userid_hmac_secret": SECRET,
                "notifier.log_format": value,
            }
        )
    assert str(raised.value) == message


def test_log_format_is_read_case_insensitively(tmp_path) -> None:
    app = open_app(
        **{
            "notifier.storage_url": str(tmp_path / "n.sqlite"),
            "notifier.userid_hmac_secret": SECRET,
            "notifier.log_format": " Text ",
        }
    )
    assert app.app.registry.settings["notifier.log_format"] == "text"


def json_ini(folder: Path, redis_url: str = "", listname: str = "") -> Path:
    """app.ini with log and (given a Redis) queue listeners, logging as JSON."""
    listeners = "log"
    extra = ""
    if redis_url:
        listeners = "log redis"
        extra = (
            "notifier.event_listeners.redis.use = notifier.listeners.redis\n"
            f"notifier.event_listeners.redis.url = {redis_url}\n"
            f"notifier.event_listeners.redis.listname = {listname}\n"
        )
    text = (ROOT / "app.ini").read_text()
    start, end = text.index("notifier.event_listeners ="), text.index("# The push service")
    text = (
        text[:start]
        + (
            f"notifier.event_listeners = {listeners}\n"
            "notifier.event_listeners.log.use = notifier.listeners.log\n"
            f"{extra}notifier.log_format = json\n"
            f"notifier.userid_hmac_secret = {SECRET}\n\n"
        )
        + text[end:]
    )
    ini = folder / "app.ini"
    ini.write_text(text)
    return ini


def request(url: str, method: str = "GET", request_id: str = "") -> int:
    headers = {**ALICE, "Content-Type": "application/json", "X-Request-Id": request_id}
    body = b"{}" if method == "PUT" else None
    call = urllib.request.Request(url, method=method, data=body, headers=headers)
    try:
        with urllib.request.urlopen(call, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def json_lines(text: str) -> list[dict]:
    """Each line of ``text`` as JSON: fails on the first that is not."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_a_server_started_with_json_writes_only_json_lines(tmp_path):
    ini = json_ini(tmp_path)
    port = free_port()
    output = tmp_path / "serve.log"
    with output.open("wb") as log:
        server = subprocess.Popen(
            [NOTIFIER, "serve", str(ini), "--port", str(port)],
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for(lambda: server.poll() is not None or server_answers(port), timeout=60)
            assert server.poll() is None, output.read_text()
            base = f"http://127.0.0.1:{port}/v1"
            assert request(f"{base}/buckets/b", "PUT", "json-1") == 201
            assert request(f"{base}/buckets/missing", "GET", "json-2") == 403
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    parsed = json_lines(output.read_text())
    assert {"timestamp", "level", "logger", "message"} <= set(parsed[0])
    summaries = {line["request_id"]: line for line in parsed if line["logger"] == SUMMARY}
    created = summaries["json-1"]
    assert (created["method"], created["path"], created["status"]) == ("PUT", "/v1/buckets/b", 201)
    assert (created["userid"], created["level"]) == (ALICE_ID, "INFO")
    assert summaries["json-2"]["status"] == 403
    [event] = [line for line in parsed if line["logger"] == "notifier.delivery.events"]
    assert event["request_id"] == "json-1"
    assert json.loads(event["message"])["request_id"] == "json-1"


def test_the_worker_logs_the_request_id_of_each_job(redis_url, redis_client, listname, caplog):
    caplog.set_level(logging.INFO, logger="notifier.worker")
    caplog.handler.addFilter(RequestIdFilter())  # what the worker's start does to its handlers
    base = make_event(1)
    event = ResourceChanged({**base.payload, "request_id": "from-http"}, base.impacted_objects)
    redis_client.rpush(listname, event.to_json())
    calls: list[int] = []

    def handler(received: ResourceChanged) -> None:
        calls.append(1)
        logging.getLogger("notifier.worker.test_handler").warning("handling %s", received.event_id)
        if len(calls) == 1:
            raise RuntimeError("first call fails")

    config = WorkerConfig(redis_url=redis_url, listname=listname, burst=True, heartbeat_ttl=5.0)
    run(handler, config)
    job_lines = [r for r in caplog.records if "ev-1" in r.getMessage()]
    assert len(job_lines) == 4  # handling, failed, handling, handled
    assert {getattr(r, "request_id", None) for r in job_lines} == {"from-http"}
    assert "handler failed on event ev-1 (request from-http)" in caplog.text
    assert "event ev-1 (request from-http) handled in" in caplog.text


def test_the_worker_command_honours_log_format_json(tmp_path, redis_url, redis_client, listname):
    ini = json_ini(tmp_path, redis_url, listname)
    base = make_event(2)
    event = ResourceChanged({**base.payload, "request_id": "from-http"}, base.impacted_objects)
    redis_client.rpush(listname, event.to_json())
    out = tmp_path / "out.txt"
    done = notifier(
        "worker", str(ini), "--handler", "tests.worker_handlers:record", "--burst",
        env={"NOTIFIER_TEST_OUT": str(out), "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    parsed = json_lines(done.stderr)
    [handled] = [line for line in parsed if "handled in" in line["message"]]
    assert (handled["request_id"], handled["logger"]) == ("from-http", "notifier.worker.runtime")


@pytest.mark.parametrize(
    "command",
    [["serve", "INI", "--port", "PORT"], ["outbox", "relay", "INI", "--once"]],
    ids=["serve", "relay"],
)
def test_a_bad_log_format_stops_each_process_with_one_line(tmp_path, command):
    ini = tmp_path / "app.ini"
    ini.write_text((ROOT / "app.ini").read_text())
    fill = {"INI": str(ini), "PORT": str(free_port())}
    args = [fill.get(each, each) for each in command]
    done = notifier(*args, env={"NOTIFIER_LOG_FORMAT": "jsno"}, cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == (
        "notifier: notifier.log_format: expected one of text, json (did you mean 'json'?)"
        " (got 'jsno')"
    )
    assert "Traceback" not in done.stderr
