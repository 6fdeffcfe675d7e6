"""Each start-up error of the webhook listener: one line naming the key, the value, the fix."""

from __future__ import annotations

import pytest

from notifier.listeners.webhook_settings import is_public
from notifier.settings import SettingsError
from tests.webhook_helpers import OTHER_SECRET, PREFIX, SECRET, build, hook_settings

URL = "http://127.0.0.1:9/hooks"
URL_WORDS = "expected an http:// or https:// URL such as https://example.com/hooks"
SECRET_WORDS = "expected whsec_ followed by the base64 of 24 to 64 random bytes"
HEADER_WORDS = "expected one 'Name: value' header per line, e.g. 'Authorization: Bearer x'"


def error_for(url: str = URL, **extra: str) -> str:
    with pytest.raises(SettingsError) as error:
        build(hook_settings(url, **extra))
    message = str(error.value)
    assert "\n" not in message
    return message


def test_defaults_and_dispatcher_keys_are_accepted() -> None:
    listener = build(
        hook_settings(URL, actions="create", resources="record", buckets="b", collections="c")
    )
    s = listener.settings
    assert [e.url for e in s.endpoints] == [URL]
    assert (s.timeout, s.headers, s.allow_private_addresses) == (10.0, (), True)
    assert s.keys == (b"k" * 32,)
    assert listener.name == "hook"
    listener.close()


def test_several_urls_secrets_and_headers() -> None:
    listener = build(
        hook_settings(
            f"{URL}  https://example.com/a?token=x",
            secret=f"{SECRET} {OTHER_SECRET}",
            timeout="2.5",
            headers="\nAuthorization: Bearer abc\nX-Team:  ops \n",
        )
    )
    s = listener.settings
    assert [e.label for e in s.endpoints] == ["http://127.0.0.1:9/...", "https://example.com/..."]
    assert s.keys == (b"k" * 32, b"o" * 24)
    assert s.timeout == 2.5
    assert s.headers == (("Authorization", "Bearer abc"), ("X-Team", "ops"))
    listener.close()


@pytest.mark.parametrize("url", ["", "ftp://example.com/x", "example.com/hooks", "http://:80/x"])
def test_url_must_be_http(url: str) -> None:
    message = error_for(url)
    assert message.startswith(f"{PREFIX}url: ")
    assert URL_WORDS in message or "is required" in message


def test_url_with_credentials_is_refused() -> None:
    assert error_for("https://user:pw@example.com/h") == (
        f"{PREFIX}url: a URL with user:password@ is not accepted; send credentials with"
        " headers (got 'https://user:pw@example.com/h')"
    )


def test_url_twice_is_refused() -> None:
    assert error_for(f"{URL} {URL}") == f"{PREFIX}url: lists the same URL twice (got '{URL} {URL}')"


@pytest.mark.parametrize(
    ("secret", "problem", "shown"),
    [
        ("abc", "; generate one with", "abc..."),
        ("whsec_!!!notbase64", " (not valid base64)", "whsec_!!..."),
        ("whsec_c2hvcnQ=", " (decodes to 5 bytes)", "whsec_c2..."),
    ],
)
def test_secret_must_be_whsec_base64(secret: str, problem: str, shown: str) -> None:
    message = error_for(secret=secret)
    assert message.startswith(f"{PREFIX}secret: {SECRET_WORDS}{problem}")
    assert message.endswith(f"(got {shown!r})")


def test_secret_is_required_and_at_most_two() -> None:
    settings = hook_settings(URL)
    del settings[PREFIX + "secret"]
    with pytest.raises(SettingsError) as error:
        build(settings)
    assert str(error.value) == f"{PREFIX}secret: is required"
    assert error_for(secret=f"{SECRET} {SECRET} {SECRET}") == (
        f"{PREFIX}secret: expected one whsec_ secret, or two separated by a space during a"
        " rotation (got '3 secrets')"
    )


@pytest.mark.parametrize("line", ["no colon here", "Bad Name: x", "X-Ok: tab\x0bvertical"])
def test_header_lines_must_be_name_colon_value(line: str) -> None:
    assert error_for(headers=line) == f"{PREFIX}headers: {HEADER_WORDS} (got {line.strip()!r})"


@pytest.mark.parametrize("name", ["webhook-id", "Webhook-Signature", "Content-Type", "Host"])
def test_headers_cannot_replace_the_listeners_own(name: str) -> None:
    assert error_for(headers=f"{name}: x") == (
        f"{PREFIX}headers: the listener sets {name} itself; accepted: any other header"
        f" (got '{name}: x')"
    )


def test_header_set_twice_is_refused() -> None:
    assert error_for(headers="X-A: 1\nx-a: 2") == f"{PREFIX}headers: sets x-a twice (got 'x-a: 2')"


def test_timeout_must_be_a_positive_number() -> None:
    assert error_for(timeout="soon") == f"{PREFIX}timeout: expected a number >= 0.001 (got 'soon')"


def test_allow_private_addresses_is_a_strict_boolean() -> None:
    assert error_for(allow_private_addresses="ture").startswith(
        f"{PREFIX}allow_private_addresses: expected a boolean, one of true, yes"
    )


def test_unknown_key_gets_a_suggestion() -> None:
    assert "(did you mean 'timeout'?)" in error_for(timeot="3")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/h",
        "http://localhost/h",
        "http://10.1.2.3/h",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/h",
        "http://[::ffff:192.168.0.1]/h",
        "http://100.100.100.200/h",
    ],
)
def test_an_address_inside_the_network_stops_the_start(url: str) -> None:
    message = error_for(url, allow_private_addresses="false")
    assert message.startswith(f"{PREFIX}url: ")
    assert "an address inside the network (loopback, private, link-local or metadata);" in message
    assert f"set {PREFIX}allow_private_addresses = true to allow it" in message


def test_the_start_error_names_the_resolved_address() -> None:
    assert error_for("http://127.0.0.1:8080/h?token=x", allow_private_addresses="false") == (
        f"{PREFIX}url: 127.0.0.1 resolves to 127.0.0.1, an address inside the network"
        " (loopback, private, link-local or metadata); set"
        f" {PREFIX}allow_private_addresses = true to allow it (got 'http://127.0.0.1:8080/...')"
    )


def test_public_and_inside_addresses() -> None:
    assert is_public("93.184.215.14") and is_public("2606:4700::1111")
    inside = ["127.0.0.1", "10.0.0.1", "172.16.0.1", "192.168.1.1", "169.254.169.254"]
    inside += ["100.64.0.1", "0.0.0.0", "::1", "fd00:ec2::254", "fe80::1%eth0", "224.0.0.1"]
    assert [address for address in inside if is_public(address)] == []


def test_ipv6_forms_of_inside_ipv4_addresses_are_inside() -> None:
    # NAT64, IPv4-compatible, IPv4-mapped and 6to4 wrappers of the metadata and RFC 1918 addresses.
    wrapped = ["64:ff9b::a9fe:a9fe", "64:ff9b::a00:1", "::a9fe:a9fe", "::ffff:169.254.169.254"]
    wrapped += ["2002:a9fe:a9fe::", "2002:c0a8:101::1", "64:ff9b:1::a9fe:a9fe"]
    assert [address for address in wrapped if is_public(address)] == []
    # The same wrappers of a public IPv4 address stay public.
    assert is_public("64:ff9b::5db8:d70e") and is_public("2002:5db8:d70e::1")
