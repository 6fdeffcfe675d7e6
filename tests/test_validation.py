"""Bad input answers a 4xx in Kinto's error JSON, fast, and leaves the server healthy (issue 14).

Every test runs on both backends: what one of them cannot store is refused
on both, at the edge.
"""

from __future__ import annotations

import io
import json
import socket
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import webtest
from pyramid import httpexceptions
from pyramid.request import Request

from notifier.http.errors import ERRORS, json_http_error
from tests.apps import running
from tests.conftest import ALICE, SECRET, serving

COLLECTION = "/v1/buckets/b/collections/c"
RECORDS = COLLECTION + "/records"
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def app(backend_settings: dict[str, str]) -> Iterator[webtest.TestApp]:
    settings = {**backend_settings, "notifier.userid_hmac_secret": SECRET}
    with running(settings) as wsgi_app:
        yield prepared(webtest.TestApp(wsgi_app))


def prepared(app: webtest.TestApp) -> webtest.TestApp:
    app.put_json("/v1/buckets/b", {}, headers=ALICE)
    app.put_json(COLLECTION, {}, headers=ALICE)
    app.put_json(RECORDS + "/r1", {"data": {"n": 1, "title": "one"}}, headers=ALICE)
    return app


def error(response: webtest.TestResponse, code: int, errno: int) -> str:
    body = response.json
    assert response.content_type == "application/json"
    assert (body["code"], body["errno"]) == (code, errno)
    message: str = body["message"]
    return message


def still_healthy(app: webtest.TestApp) -> None:
    """The collection still lists, filters and sorts: nothing was poisoned."""
    listed = app.get(RECORDS + "?_sort=-n&n=1", headers=ALICE).json["data"]
    assert [each["id"] for each in listed] == ["r1"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            b'{"data": {"x": NaN}}',
            "body in body: NaN is not a JSON number; send a finite number or null",
        ),
        (
            b'{"data": {"x": Infinity}}',
            "body in body: Infinity is not a JSON number; send a finite number or null",
        ),
        (
            b'{"data": {"x": -Infinity}}',
            "body in body: -Infinity is not a JSON number; send a finite number or null",
        ),
        (b'{"data": {"x": 1e400}}', "body in body: the number 1e400 is out of range for a double"),
        (
            b'{"data": {"x": 9223372036854775808}}',
            "body in body: the integer 9223372036854775808 is out of range [-2^63, 2^63-1]",
        ),
        (
            b'{"data": {"x": "\\ud800"}}',
            "body in body: strings cannot contain a lone surrogate (\\ud800 to \\udfff unpaired)",
        ),
        (
            b'{"data": {"\\udfff": 1}}',
            "body in body: strings cannot contain a lone surrogate (\\ud800 to \\udfff unpaired)",
        ),
        (
            b'{"data": {"x": "a\\u0000"}}',
            "body in body: strings cannot contain the NUL character \\u0000",
        ),
        (b'{"data": {"x": "\xff"}}', "body in body: the body is not UTF-8 (byte 16)"),
        (
            b'{"data": {"x": "\xed\xa0\x80"}}',
            "body in body: the body is not UTF-8 (byte 16)",
        ),
    ],
)
def test_values_that_are_not_plain_json_are_refused(
    app: webtest.TestApp, raw: bytes, message: str
) -> None:
    response = app.put(RECORDS + "/r2", raw, headers={**ALICE, **JSON}, status=400)
    assert error(response, 400, 107) == message
    app.get(RECORDS + "/r2", headers=ALICE, status=404)
    still_healthy(app)


def test_the_largest_storable_integers_are_kept(app: webtest.TestApp) -> None:
    data = {"big": 2**63 - 1, "small": -(2**63), "pi": 3.25}
    app.put_json(RECORDS + "/r2", {"data": data}, headers=ALICE, status=201)
    stored = app.get(RECORDS + "/r2", headers=ALICE).json["data"]
    assert (stored["big"], stored["small"], stored["pi"]) == (2**63 - 1, -(2**63), 3.25)
    found = app.get(RECORDS + f"?big={2**63 - 1}", headers=ALICE).json["data"]
    assert [each["id"] for each in found] == ["r2"]


def test_json_nested_deeper_than_the_limit_is_refused_fast(app: webtest.TestApp) -> None:
    deep = b'{"data": {"x": ' + b"[" * 1000 + b"]" * 1000 + b"}}"
    started = time.monotonic()
    response = app.put(RECORDS + "/r2", deep, headers={**ALICE, **JSON}, status=400)
    assert time.monotonic() - started < 1
    assert error(response, 400, 107) == (
        "body in body: the JSON nests 1002 levels deep; the limit is 32"
    )
    brackets_in_strings = {"data": {"x": "[[[[" * 100}}
    app.put_json(RECORDS + "/r3", brackets_in_strings, headers=ALICE, status=201)


def test_the_depth_limit_is_a_setting(backend_settings: dict[str, str]) -> None:
    settings = {**backend_settings, "notifier.userid_hmac_secret": SECRET}
    with running({**settings, "notifier.max_json_depth": "3"}) as wsgi_app:
        depth_limited(webtest.TestApp(wsgi_app))


def depth_limited(app: webtest.TestApp) -> None:
    app.put_json("/v1/buckets/b", {"data": {"a": 1}}, headers=ALICE, status=201)
    response = app.put_json("/v1/buckets/b", {"data": {"a": [[1]]}}, headers=ALICE, status=400)
    assert error(response, 400, 107) == "body in body: the JSON nests 4 levels deep; the limit is 3"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (RECORDS + "?title=%ff", "The querystring is not UTF-8: percent-encode UTF-8 bytes only"),
        (
            RECORDS + "?title=%ed%a0%80",
            "The querystring is not UTF-8: percent-encode UTF-8 bytes only",
        ),
        (RECORDS + "?title=a%00b", "The querystring contains the NUL character (%00); remove it"),
        ("/v1/buckets/b/collections/%ff", "The path is not UTF-8: percent-encode UTF-8 bytes only"),
        ("/v1/buckets/b%00", "The path contains the NUL character (%00); remove it"),
    ],
)
def test_bad_bytes_in_the_url(app: webtest.TestApp, url: str, message: str) -> None:
    response = app.get(url, headers=ALICE, status=400)
    assert error(response, 400, 107) == message
    still_healthy(app)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "_since=9223372036854775808",
            "_since in querystring: must be an integer between 0 and 9223372036854775807,"
            " got '9223372036854775808'",
        ),
        (
            "_before=99999999999999999999999999",
            "_before in querystring: must be an integer, got '99999999999999999999999999'",
        ),
        (
            "n=9223372036854775808",
            "n in querystring: 9223372036854775808 is out of range;"
            " integers fit in [-2^63, 2^63-1]",
        ),
        (
            "in_n=1,-9223372036854775809",
            "in_n in querystring: -9223372036854775809 is out of range;"
            " integers fit in [-2^63, 2^63-1]",
        ),
        ("gt_n=1e400", "gt_n in querystring: 1e400 is out of range for a number"),
        (
            "_sort=" + ",".join(f"f{i}" for i in range(2000)),
            "_sort in querystring: sort on at most 10 fields, got 2000",
        ),
    ],
)
def test_numbers_and_sorts_out_of_range(app: webtest.TestApp, query: str, message: str) -> None:
    response = app.get(RECORDS + "?" + query, headers=ALICE, status=400)
    assert error(response, 400, 107) == message
    still_healthy(app)


def test_nan_in_a_filter_is_text(app: webtest.TestApp) -> None:
    assert app.get(RECORDS + "?n=NaN", headers=ALICE).json["data"] == []


def _token(value: Any) -> str:
    import base64

    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "token",
    [
        "@@@",
        _token([1]),
        _token({"last_object": {"n": {"nested": 1}}}),
        _token({"last_object": {"n": [1, 2]}}),
        _token({"last_object": {"n": 2**70}}),
        _token({"last_object": {"a b": 1}}),
        _token({"last_object": {"n": "\ud800"}}),
        _token({"last_object": {"n": "a\x00"}}),
        "W" * 5000,
    ],
)
def test_tokens_of_the_wrong_shape(app: webtest.TestApp, token: str) -> None:
    response = app.get(RECORDS + "?_sort=n&_token=" + token, headers=ALICE, status=400)
    assert error(response, 400, 107) == (
        "_token in querystring: is not a pagination token this server gave;"
        " use the URL of the Next-Page header as it is"
    )


def test_a_token_this_server_gave_pages_on(app: webtest.TestApp) -> None:
    app.put_json(RECORDS + "/r2", {"data": {"n": 2}}, headers=ALICE)
    first = app.get(RECORDS + "?_sort=n&_limit=1", headers=ALICE)
    second = app.get(first.headers["Next-Page"], headers=ALICE)
    assert [each["id"] for each in second.json["data"]] == ["r2"]


@pytest.mark.parametrize(
    ("content_type", "method"),
    [("text/plain", "put"), ("application/x-www-form-urlencoded", "post"), ("text/json", "patch")],
)
def test_a_body_that_is_not_json_answers_415(
    app: webtest.TestApp, content_type: str, method: str
) -> None:
    url = RECORDS if method == "post" else RECORDS + "/r1"
    send = getattr(app, method)
    headers = {**ALICE, "Content-Type": content_type}
    response = send(url, '{"data": {"n": 5}}', headers=headers, status=415)
    accepted = (
        "['application/json', 'application/merge-patch+json', 'application/json-patch+json']"
        if method == "patch"
        else "['application/json']"
    )
    description = f"Content-Type header should be one of {accepted}"
    # Kinto's body for it (cornice's content_type check through kinto.core's
    # json_error_handler): errno 107 and "Invalid parameters", not an errno of its own.
    assert response.json == {
        "code": 415,
        "errno": 107,
        "error": "Invalid parameters",
        "message": f"Content-Type in header: {description}, got {content_type!r}",
        "details": [{"location": "header", "name": "Content-Type", "description": description}],
    }
    assert app.get(RECORDS + "/r1", headers=ALICE).json["data"]["n"] == 1


def test_any_other_415_is_kintos_invalid_parameters_too() -> None:
    """A 415 raised without a body of its own (a plugin's view) gets the same errno and error."""
    request = Request.blank("/v1/anything", method="POST")
    response = json_http_error(httpexceptions.HTTPUnsupportedMediaType("no XML here"), request)
    assert response.json_body == {
        "code": 415,
        "errno": 107,
        "error": "Invalid parameters",
        "message": "no XML here",
    }
    assert ERRORS.VERSION_NOT_AVAILABLE == 116  # Kinto's 116, that a 415 once answered


def test_json_with_a_charset_and_no_content_type_are_json(app: webtest.TestApp) -> None:
    headers = {**ALICE, "Content-Type": "application/json; charset=utf-8"}
    app.put(RECORDS + "/r2", '{"data": {"n": 2}}', headers=headers, status=201)
    request = webtest.TestRequest.blank(RECORDS + "/r3", method="PUT", headers=ALICE)
    request.body = b'{"data": {"n": 3}}'
    request.environ.pop("CONTENT_TYPE", None)
    assert app.do_request(request, status=201).json["data"]["n"] == 3


# ---- the body limit, on a real socket ----------------------------------------------


@pytest.fixture
def small_limit_server(backend_settings: dict[str, str]) -> Iterator[tuple[str, int]]:
    settings = {
        **backend_settings,
        "notifier.userid_hmac_secret": SECRET,
        "notifier.max_request_body_bytes": "1000",
    }
    with running(settings) as wsgi_app, serving(wsgi_app) as url:
        parts = urlsplit(url)
        yield parts.hostname or "", parts.port or 0


def _exchange(address: tuple[str, int], head: bytes, body_chunks: list[bytes]) -> bytes:
    with socket.create_connection(address, timeout=5) as connection:
        connection.sendall(head)
        for chunk in body_chunks:
            connection.sendall(chunk)
        connection.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    return received


def _json_of(response: bytes) -> dict[str, Any]:
    status_line, _, rest = response.partition(b"\r\n")
    body = rest.split(b"\r\n\r\n", 1)[1]
    result: dict[str, Any] = json.loads(body)
    result["status_line"] = status_line.decode()
    return result


def test_a_content_length_over_the_limit_is_refused_before_the_body(
    small_limit_server: tuple[str, int],
) -> None:
    head = (
        b"PUT /v1/buckets/b HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1500\r\nConnection: close\r\n\r\n"
    )
    body = _json_of(_exchange(small_limit_server, head, [b" " * 1500]))
    assert body["status_line"] == "HTTP/1.1 413 Request Entity Too Large"
    assert (body["errno"], body["message"]) == (
        113,
        "The request body is 1500 bytes; the limit is 1000 (notifier.max_request_body_bytes)",
    )


def test_a_chunked_body_over_the_limit_is_refused(small_limit_server: tuple[str, int]) -> None:
    head = (
        b"PUT /v1/buckets/b HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    chunks = [b"200\r\n" + b" " * 512 + b"\r\n"] * 3 + [b"0\r\n\r\n"]
    body = _json_of(_exchange(small_limit_server, head, chunks))
    assert body["status_line"] == "HTTP/1.1 413 Request Entity Too Large"
    assert body["errno"] == 113


class CountingInput(io.BytesIO):
    """A request body stream that remembers how many bytes the app read."""

    read_bytes = 0

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.read_bytes += len(data)
        return data


def test_a_body_without_length_is_read_only_up_to_the_limit(
    backend_settings: dict[str, str],
) -> None:
    """A server that streams a chunked body (no Content-Length): the app reads limit + 1 bytes."""
    settings = {
        **backend_settings,
        "notifier.userid_hmac_secret": SECRET,
        "notifier.max_request_body_bytes": "1000",
    }
    with running(settings) as wsgi_app:
        read_one_over_the_limit(wsgi_app)


def read_one_over_the_limit(wsgi_app: Any) -> None:
    stream = CountingInput(b" " * 10_000_000)
    environ = webtest.TestRequest.blank("/v1/buckets/b", method="PUT", headers=ALICE).environ
    environ.update({"wsgi.input": stream, "wsgi.input_terminated": True})
    environ.pop("CONTENT_LENGTH", None)
    environ["CONTENT_TYPE"] = "application/json"
    statuses = []
    body = b"".join(wsgi_app(environ, lambda status, headers: statuses.append(status)))
    assert statuses == ["413 Request Entity Too Large"]
    assert json.loads(body)["message"] == (
        "The request body is over 1000 bytes; the limit is 1000 (notifier.max_request_body_bytes)"
    )
    assert stream.read_bytes == 1001
