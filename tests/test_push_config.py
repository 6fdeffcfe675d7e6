"""The push service's settings, tokens, import rules, and its start-up errors."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from notifier.push import tokens
from notifier.push.config import push_config
from notifier.settings import SettingsError
from tests.helpers import ROOT, start, stop, wait_for
from tests.ini import write_ini

L = "notifier.event_listeners"
STREAM = {
    L: "log stream",
    f"{L}.stream.use": "notifier.listeners.stream",
    f"{L}.stream.url": "redis://127.0.0.1:6379/3",
    f"{L}.stream.stream": "live",
    f"{L}.stream.maxlen": "500",
    "notifier.userid_hmac_secret": "s",
}


def test_defaults_come_from_the_stream_listener():
    config = push_config(STREAM)
    assert (config.host, config.port) == ("127.0.0.1", 8889)
    assert (config.url, config.stream, config.retention) == (
        "redis://127.0.0.1:6379/3",
        "live",
        500,
    )
    assert (config.recheck_seconds, config.keepalive_seconds, config.queue_size) == (30, 15, 1000)


def test_own_settings_win():
    config = push_config(
        {
            **STREAM,
            "notifier.push.url": "redis://other:6379/0",
            "notifier.push.stream": "s2",
            "notifier.push.retention": "10",
            "notifier.push.port": "9000",
        }
    )
    assert (config.url, config.stream, config.retention, config.port) == (
        "redis://other:6379/0",
        "s2",
        10,
        9000,
    )


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"notifier.userid_hmac_secret": "s"},
            "notifier.push.url: is required when no listener of notifier.event_listeners"
            " uses notifier.listeners.stream",
        ),
        (
            {**STREAM, "notifier.push.recheck_seconds": "0.5"},
            "notifier.push.recheck_seconds: expected a number >= 1 (got '0.5')",
        ),
        (
            {**STREAM, "notifier.push.port": "http"},
            "notifier.push.port: expected an integer between 0 and 65535 (got 'http')",
        ),
        (
            {**STREAM, "notifier.push.url": "http://x"},
            "notifier.push.url: expected a Redis URL starting with redis://, rediss://, unix://"
            " (got 'http://x')",
        ),
        (
            {**STREAM, "notifier.push.retension": "5"},
            "notifier.push.retension: unknown setting (did you mean 'retention'?); accepted"
            " here: api_url, host, keepalive_seconds, port, queue_size, recheck_seconds,"
            " retention, stream, token_ttl, url",
        ),
        (
            {**STREAM, "notifier.userid_hmac_secret": ""},
            "notifier.userid_hmac_secret: is required: it keys the userids",
        ),
    ],
)
def test_bad_settings_name_key_value_and_accepted(settings, message):
    with pytest.raises(SettingsError) as error:
        push_config(settings)
    assert str(error.value) == message


def test_a_bad_setting_stops_the_process_with_one_line(tmp_path):
    ini = write_ini(tmp_path / "app.ini", {**STREAM, "notifier.push.queue_size": "0"})
    process = start(["-m", "notifier.push", ini])
    wait_for(lambda: process.poll() is not None, 20)
    assert process.poll() == 1
    assert stop(process).strip().splitlines() == [
        "notifier push: notifier.push.queue_size: expected a positive integer (got '0')"
    ]


def test_tokens_name_the_user_and_expire():
    token, expires = tokens.issue("secret", "basicauth:alice", ttl=60, now=1000)
    assert expires == 1060
    assert tokens.verify("secret", token, now=1059) == "basicauth:alice"
    with pytest.raises(tokens.InvalidToken) as error:
        tokens.verify("secret", token, now=1061)
    assert str(error.value) == "the token has expired: get a new one from POST /v1/push/tokens"
    with pytest.raises(tokens.InvalidToken) as error:
        tokens.verify("other secret", token, now=1000)
    assert str(error.value) == "the token's signature does not match: get a new one"
    with pytest.raises(tokens.InvalidToken) as error:
        tokens.verify("secret", "abc", now=1000)
    assert str(error.value) == "the token is malformed: get a new one from POST /v1/push/tokens"


def test_the_push_package_never_imports_the_http_layer():
    for path in sorted((ROOT / "notifier" / "push").glob("*.py")):
        tree = ast.parse(Path(path).read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                assert not name.startswith("notifier.http"), (path.name, name)


def test_without_redis_the_service_answers_503_and_says_why(tmp_path):
    from notifier.dev.redis_server import free_port
    from tests.push_helpers import get_status

    silent = f"redis://127.0.0.1:{free_port()}/0"
    settings = {
        **STREAM,
        f"{L}.stream.url": silent,
        "notifier.storage_url": str(tmp_path / "n.sqlite"),
        "notifier.push.port": "0",
    }
    process = start(["-m", "notifier.push", write_ini(tmp_path / "app.ini", settings)])
    try:
        found = wait_for(lambda: re.search(r"push: serving (http://\S+)", process.output), 20)
        assert get_status(found.group(1) + "/__heartbeat__") == 503
        wait_for(lambda: "push: Redis unavailable" in process.output, 20)
    finally:
        stop(process)


def test_the_notifier_command_runs_it_and_a_bad_setting_is_one_line(tmp_path):
    from tests.cli import notifier, one_line_error

    ini = write_ini(tmp_path / "app.ini", {**STREAM, "notifier.push.recheck_seconds": "0"})
    assert one_line_error(notifier("push", ini)) == (
        "notifier: notifier.push.recheck_seconds: expected a number >= 1 (got '0')"
    )
    assert "live events" in notifier("push", "--help").stdout
