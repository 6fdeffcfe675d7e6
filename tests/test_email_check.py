"""``notifier email-test`` end to end against aiosmtpd."""

from __future__ import annotations

from pathlib import Path

import pytest

from notifier.cli.main import main as notifier_main
from notifier.delivery.loader import listener_from_ini
from notifier.settings import SettingsError
from tests.cli import notifier, one_line_error
from tests.email_helpers import PREFIX, RECIPIENTS, email_settings
from tests.ini import write_ini
from tests.smtp import SmtpServer, free_port

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "hunter2-%-secret"


def main(argv: list[str]) -> int:
    return notifier_main(["email-test", *argv])


def test_sends_one_test_mail(
    tmp_path: Path, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    ini = write_ini(tmp_path / "app.ini", email_settings(smtp_server.server))

    assert main([ini, "--listener", "send_email"]) == 0

    [mail] = smtp_server.received
    subject = "[notifier email-test] email-test created record in email-test"
    assert mail.message["Subject"] == subject
    assert sorted(mail.rcpt_tos) == sorted(RECIPIENTS)
    assert capsys.readouterr().out == (
        f"notifier email-test: sent {subject!r} from Notifier <notifier@example.com> to"
        f" {mail.message['To']} through {smtp_server.server} (listener send_email)\n"
    )


def test_to_replaces_the_recipients(tmp_path: Path, smtp_server: SmtpServer) -> None:
    ini = write_ini(tmp_path / "app.ini", email_settings(smtp_server.server))

    assert main([ini, "--listener", "send_email", "--to", "me@example.com"]) == 0

    assert [mail.rcpt_tos for mail in smtp_server.received] == [["me@example.com"]]
    assert smtp_server.received[0].message["To"] == "me@example.com"


def test_environment_overrides_apply(
    tmp_path: Path, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    ini = write_ini(tmp_path / "app.ini", email_settings(f"127.0.0.1:{free_port()}"))
    monkeypatch.setenv("NOTIFIER_EVENT_LISTENERS_SEND_EMAIL_SERVER", smtp_server.server)

    assert main([ini, "--listener", "send_email"]) == 0
    assert len(smtp_server.received) == 1


def test_smtp_down_exits_1_without_the_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = f"127.0.0.1:{free_port()}"
    settings = email_settings(server, username="notifier", password=PASSWORD)
    ini = write_ini(tmp_path / "app.ini", settings)

    assert main([ini, "--listener", "send_email"]) == 1

    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(
        f"notifier: email listener send_email: sending through {server}"
        " failed: ConnectionRefusedError: "
    )
    assert PASSWORD not in captured.err


def test_bad_settings_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ini = write_ini(tmp_path / "app.ini", email_settings("localhost:25", tls="maybe"))

    assert main([ini, "--listener", "send_email"]) == 1
    assert capsys.readouterr().err == (
        f"notifier: {PREFIX}tls: expected a boolean, one of true, yes, on, 1,"
        " false, no, off, 0 (got 'maybe')\n"
    )


def test_bad_to_and_missing_file_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ini = write_ini(tmp_path / "app.ini", email_settings("localhost:25"))

    assert main([ini, "--listener", "send_email", "--to", "nobody"]) == 1
    assert capsys.readouterr().err == (
        "notifier: --to: expected an email address such as notifier@example.com (got 'nobody')\n"
    )
    missing = str(tmp_path / "missing.ini")
    assert main([missing, "--listener", "send_email"]) == 1
    assert capsys.readouterr().err == (f"notifier: INI: no such file (got {missing!r})\n")


def test_unknown_or_non_email_listener_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = email_settings("localhost:25")
    settings["notifier.event_listeners.other.use"] = "tests.ini"
    ini = write_ini(tmp_path / "app.ini", settings)

    assert main([ini, "--listener", "sendemail"]) == 1
    assert capsys.readouterr().err == (
        "notifier: notifier.event_listeners.sendemail.use: is required:"
        " no listener 'sendemail' is configured (did you mean 'send_email'?);"
        " configured: other, send_email\n"
    )
    assert main([ini, "--listener", "other"]) == 1
    assert capsys.readouterr().err == (
        "notifier: notifier.event_listeners.other.use: the module has no"
        " load_from_config(config, prefix) (got 'tests.ini')\n"
    )


def test_no_such_module_is_a_settings_error(tmp_path: Path) -> None:
    settings = email_settings("localhost:25")
    settings[PREFIX + "use"] = "notifier.listeners.emial"
    ini = write_ini(tmp_path / "app.ini", settings)

    with pytest.raises(SettingsError) as error:
        listener_from_ini(ini, "send_email")
    assert str(error.value) == (
        f"{PREFIX}use: no module named 'notifier.listeners.emial' (did you mean"
        " 'notifier.listeners.email'?); built-in listeners: notifier.listeners.log,"
        " notifier.listeners.redis, notifier.listeners.stream, notifier.listeners.email"
        " (got 'notifier.listeners.emial')"
    )


def test_runs_as_the_notifier_command(tmp_path: Path, smtp_server: SmtpServer) -> None:
    ini = write_ini(tmp_path / "app.ini", email_settings(smtp_server.server))

    result = notifier("email-test", "--listener", "send_email", cwd=tmp_path)  # ./app.ini

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("notifier email-test: sent ")
    assert len(smtp_server.received) == 1
    assert ini == str(tmp_path / "app.ini")


def test_smtp_down_is_one_line_from_the_command(tmp_path: Path) -> None:
    server = f"127.0.0.1:{free_port()}"
    ini = write_ini(
        tmp_path / "app.ini", email_settings(server, username="notifier", password=PASSWORD)
    )

    line = one_line_error(notifier("email-test", ini, "--listener", "send_email"))

    assert line.startswith(f"notifier: email listener send_email: sending through {server}")
    assert PASSWORD not in line


def load_from_config(config: object, prefix: str) -> object:
    """A listener module that is not the email listener (this test module)."""
    return lambda event: None


def test_a_listener_that_is_not_email_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = {"notifier.event_listeners.log.use": "tests.test_email_check"}
    ini = write_ini(tmp_path / "app.ini", settings)

    assert main([ini, "--listener", "log"]) == 1
    assert capsys.readouterr().err == (
        "notifier: notifier.event_listeners.log.use: this command needs an"
        " email listener (use = notifier.listeners.email) (got 'function')\n"
    )


def test_a_multi_line_body_from_the_ini(tmp_path: Path, smtp_server: SmtpServer) -> None:
    body = "{user_id} {action}d {uri}\n\nNotifié <{object[title]}>"
    ini = write_ini(tmp_path / "app.ini", email_settings(smtp_server.server, body=body))

    assert main([ini, "--listener", "send_email"]) == 0

    assert smtp_server.received[0].body == (
        "email-test created /buckets/email-test/collections/test/records/test"
        "\n\nNotifié <email-test>\n"
    )
