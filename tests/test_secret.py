"""A published or short userid secret stops the start, unless the run is for development."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import notifier
from notifier.app import configure
from notifier.cli.serve import use_dev_secret
from notifier.dev.redis_server import free_port
from notifier.dev.secret import checkout_secret
from notifier.settings import SettingsError

ROOT = Path(__file__).resolve().parent.parent
ADVICE = (
    "set a random string of at least 32 characters, e.g. the output of"
    " python -c 'import secrets; print(secrets.token_hex(32))',"
    " or notifier.dev_mode = true for a development run"
)


def start(tmp_path: Path, **extra: str) -> None:
    settings = {"notifier.storage_url": str(tmp_path / "n.sqlite"), **extra}
    config = configure({}, settings)
    notifier.shutdown(config.registry)


def test_the_published_secret_stops_the_start(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as raised:
        start(tmp_path, **{"notifier.userid_hmac_secret": "change-me-in-production-0b1f6c"})
    assert str(raised.value) == (
        "notifier.userid_hmac_secret: is the example secret published with notifier; " + ADVICE
    )


@pytest.mark.parametrize("secret", ["s", "x" * 31])
def test_a_short_secret_stops_the_start_without_being_quoted(tmp_path: Path, secret: str) -> None:
    with pytest.raises(SettingsError) as raised:
        start(tmp_path, **{"notifier.userid_hmac_secret": secret})
    assert str(raised.value) == (
        f"notifier.userid_hmac_secret: is {len(secret)} characters long, under 32; " + ADVICE
    )


def test_32_characters_start(tmp_path: Path) -> None:
    start(tmp_path, **{"notifier.userid_hmac_secret": "x" * 32})


def test_a_development_run_takes_any_secret(tmp_path: Path) -> None:
    start(tmp_path, **{"notifier.userid_hmac_secret": "s", "notifier.dev_mode": "true"})


def test_dev_mode_is_a_strict_boolean(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as raised:
        start(tmp_path, **{"notifier.userid_hmac_secret": "x" * 40, "notifier.dev_mode": "ture"})
    assert str(raised.value) == (
        "notifier.dev_mode: expected a boolean, one of true, yes, on, 1, false, no, off, 0"
        " (got 'ture')"
    )


def test_the_checkout_secret_is_made_once_and_private(tmp_path: Path) -> None:
    first = checkout_secret(tmp_path)
    assert len(first) == 64 and int(first, 16) >= 0
    assert checkout_secret(tmp_path) == first
    path = tmp_path / "var" / "dev-secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert checkout_secret(tmp_path / "elsewhere") != first


def test_the_dev_server_uses_the_checkout_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("NOTIFIER_USERID_HMAC_SECRET", "NOTIFIER_DEV_MODE"):
        monkeypatch.setenv(name, "")  # so that teardown restores the variable's absence
        monkeypatch.delenv(name)
    use_dev_secret(str(tmp_path / "app.ini"))
    assert os.environ["NOTIFIER_DEV_MODE"] == "true"
    assert os.environ["NOTIFIER_USERID_HMAC_SECRET"] == checkout_secret(tmp_path)


def test_the_shipped_files_carry_no_usable_secret() -> None:
    for ini in (ROOT / "app.ini", ROOT / "config" / "postgresql.ini"):
        lines = ini.read_text().splitlines()
        assert not [line for line in lines if line.startswith("notifier.userid_hmac_secret")]


def test_serving_a_published_secret_without_dev_says_one_line(tmp_path: Path) -> None:
    ini = tmp_path / "app.ini"
    ini.write_text((ROOT / "app.ini").read_text())
    env = {
        **os.environ,
        "NOTIFIER_USERID_HMAC_SECRET": "change-me-in-production-0b1f6c",
        "NOTIFIER_STORAGE_URL": str(tmp_path / "n.sqlite"),
    }
    env.pop("NOTIFIER_DEV_MODE", None)
    done = subprocess.run(
        [sys.executable, "-m", "notifier.cli.serve", str(ini), "--port", str(free_port())],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == (
        "notifier: notifier.userid_hmac_secret: is the example secret published with notifier; "
        + ADVICE
    )
