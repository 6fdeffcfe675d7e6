"""A real HTTP receiver on 127.0.0.1 for the webhook tests: records what it gets, answers as told.

HTTP/1.1 with keep-alive, one thread per connection, like a small production
receiver.  ``answers`` is the script of statuses for the next requests (then
200); a ``SLOW`` answer holds the request until the receiver stops or
``release`` is set, so a test can time a delivery out without sleeping.
"""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: An answer that waits for ``Receiver.release`` (then 200).
SLOW = -1


@dataclass
class Received:
    """One request as the receiver read it."""

    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes
    client_port: int
    status: int

    def header(self, name: str) -> str:
        values = [value for key, value in self.headers if key.lower() == name.lower()]
        assert len(values) == 1, f"{name}: {values}"
        return values[0]

    def header_dict(self) -> dict[str, str]:
        return {key.lower(): value for key, value in self.headers}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = True

    def __init__(self, receiver: Receiver, port: int) -> None:
        self.receiver = receiver
        self.open_sockets: set[socket.socket] = set()
        self.sockets_lock = threading.Lock()
        super().__init__(("127.0.0.1", port), _Handler)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        with self.sockets_lock:
            self.open_sockets.add(request)
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self.sockets_lock:
                self.open_sockets.discard(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (timed out, refused the address) is expected here."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def close_connections(self) -> None:
        """End idle keep-alive connections, so their threads finish."""
        with self.sockets_lock:
            for sock in self.open_sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        receiver = self.server.receiver
        status = receiver.next_answer()
        if status == SLOW:
            receiver.release.wait(timeout=30)
            status = 200
        receiver.record(
            Received(
                "POST",
                self.path,
                list(self.headers.items()),
                body,
                self.client_address[1],
                status,
            )
        )
        answer = f'{{"status": {status}}}'.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class Receiver:
    """A webhook receiver on a free (or given) 127.0.0.1 port."""

    def __init__(self, port: int = 0) -> None:
        self.port = port
        self.answers: list[int] = []
        self.received: list[Received] = []
        self.release = threading.Event()
        self._lock = threading.Condition()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/notifier?token=t0ken"

    def start(self) -> Receiver:
        self._server = _Server(self, self.port)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self.release.set()
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()  # joins the connection threads
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None

    def next_answer(self) -> int:
        with self._lock:
            return self.answers.pop(0) if self.answers else 200

    def record(self, received: Received) -> None:
        with self._lock:
            self.received.append(received)
            self._lock.notify_all()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Wait until ``count`` requests arrived; return them all."""
        return self.wait_until(lambda got: len(got) >= count, timeout)

    def wait_until(
        self, predicate: Callable[[list[Received]], bool], timeout: float = 10.0
    ) -> list[Received]:
        deadline = time.monotonic() + timeout
        with self._lock:
            while not predicate(self.received):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"receiver got {len(self.received)} request(s)")
                self._lock.wait(left)
            return list(self.received)
