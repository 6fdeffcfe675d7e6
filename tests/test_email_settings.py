"""Every start-up error of the email listener names the full key, the value and the fix."""

from __future__ import annotations

import pytest

from notifier.listeners.email_template import PLACEHOLDERS
from notifier.settings import SettingsError
from tests.email_helpers import PREFIX, build, email_settings

ACCEPTED = ", ".join(PLACEHOLDERS)
BOOLEANS = "true, yes, on, 1, false, no, off, 0"
SERVER_WORDS = "expected host:port with a port between 1 and 65535, such as localhost:25"


def error_for(**extra: str) -> str:
    settings = email_settings("localhost:1025", **extra)
    with pytest.raises(SettingsError) as error:
        build(settings)
    return str(error.value)


def test_defaults_and_dispatcher_keys_are_accepted() -> None:
    listener = build(
        email_settings(
            "smtp.example.com", actions="create", resources="record", buckets="blog",
            collections="posts", ids="r1",
        )
    )  # fmt: skip
    s = listener.settings
    assert (s.host, s.port, s.tls, s.ssl, s.username) == (
        "smtp.example.com",
        25,
        False,
        False,
        None,
    )
    assert listener.name == "send_email"
    assert s.templates.subject == "{user_id} {action}d {resource_name} in {bucket_id}"


def test_server_forms() -> None:
    assert build(email_settings("[::1]:2525")).settings.port == 2525
    assert build(email_settings("[::1]:2525")).settings.host == "::1"
    assert build(email_settings("mail.example.com", ssl="yes")).settings.port == 465
    assert build(email_settings("", ssl="no")).settings.host == "localhost"


@pytest.mark.parametrize("server", ["localhost:abc", "localhost:0", "localhost:70000", "a b:25"])
def test_bad_server(server: str) -> None:
    assert error_for(server=server) == f"{PREFIX}server: {SERVER_WORDS} (got {server!r})"


def test_bad_boolean() -> None:
    assert error_for(tls="ture") == (
        f"{PREFIX}tls: expected a boolean, one of {BOOLEANS} (got 'ture')"
    )


def test_tls_and_ssl_together() -> None:
    assert error_for(tls="true", ssl="on") == (
        f"{PREFIX}ssl: cannot be true together with {PREFIX}tls; choose one (got 'on')"
    )


def test_from_is_required() -> None:
    settings = email_settings("localhost")
    del settings[PREFIX + "from"]
    with pytest.raises(SettingsError) as error:
        build(settings)
    assert str(error.value) == f"{PREFIX}from: is required"


@pytest.mark.parametrize(
    "sender", ["notifier", "a@b, c@d", "Notifier <notifier>", "a@b\r\nBcc: x@y"]
)
def test_bad_from(sender: str) -> None:
    assert error_for(**{"from": sender}) == (
        f"{PREFIX}from: expected an email address such as notifier@example.com (got {sender!r})"
    )


def test_recipients_needs_one_address() -> None:
    assert error_for(recipients=" , ") == (
        f"{PREFIX}recipients: expected at least one address, such as ops@example.com"
    )


def test_bad_recipient() -> None:
    assert error_for(recipients="ops@example.com Ops <ops@example.com>") == (
        f"{PREFIX}recipients: 'Ops' is not an email address such as notifier@example.com;"
        " separate addresses with spaces or commas (got 'ops@example.com Ops <ops@example.com>')"
    )


def test_unknown_placeholder() -> None:
    assert error_for(subject="{usr_id} did it") == (
        f"{PREFIX}subject: unknown placeholder {{usr_id}} (did you mean 'user_id'?);"
        f" accepted: {ACCEPTED} (got '{{usr_id}} did it')"
    )


def test_positional_placeholder() -> None:
    assert error_for(body="{} {0}") == (
        f"{PREFIX}body: unknown placeholder {{}} (positional); accepted: {ACCEPTED}"
        " (got '{} {0}')"
    )


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("{action.__class__}", "{action.__class__}: attribute access is not allowed"),
        ("{object[a].b}", "{object[a].b}: attribute access is not allowed"),
        ("{action[0]}", "{action[0]}: action has no fields"),
        ("{action:{user_id}}", "{action}: nested placeholders are not allowed"),
        ("{action", "invalid template: expected '}' before end of string"),
        ("{action!z}", "invalid template: Unknown conversion specifier z"),
    ],
)
def test_bad_template(template: str, problem: str) -> None:
    assert error_for(body=template) == f"{PREFIX}body: {problem} (got {template!r})"


def test_username_and_password_go_together() -> None:
    assert error_for(username="notifier") == (
        f"{PREFIX}password: is required when {PREFIX}username is set"
    )
    assert error_for(password="secret") == (
        f"{PREFIX}username: is required when {PREFIX}password is set"
    )


def test_unknown_key_gets_a_suggestion() -> None:
    assert error_for(recipient="ops@example.com") == (
        f"{PREFIX}recipient: unknown setting (did you mean 'recipients'?); accepted here:"
        " actions, body, buckets, collections, from, ids, password, recipients, resources,"
        " server, ssl, subject, tls, use, username"
    )
