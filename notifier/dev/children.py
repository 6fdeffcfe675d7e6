"""Child processes of the dev server: started, restarted with backoff when they die, stopped.

A worker that dies (a handler module that does not import, a crash) is
logged with its exit status and started again, waiting longer each time it
dies young, so the server never runs on without saying that it lost one.
``notifier serve --processes N`` supervises its app processes the same way.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterable, Mapping, Sequence

from notifier.dev.redis_server import stop_with_parent

log = logging.getLogger(__name__)


def extend_pythonpath(environ: Mapping[str, str], folders: Iterable[str]) -> dict[str, str]:
    """A copy of ``environ`` whose PYTHONPATH starts with ``folders`` and keeps what it had."""
    entries = [*folders, *environ.get("PYTHONPATH", "").split(os.pathsep)]
    unique = [entry for i, entry in enumerate(entries) if entry and entry not in entries[:i]]
    return {**environ, "PYTHONPATH": os.pathsep.join(unique)}


def exit_reason(code: int) -> str:
    """How a process ended, in words: its status, or the signal that killed it."""
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with status {code}"


class Supervised:
    """One child process, restarted with capped exponential backoff until ``stop()``.

    The delay doubles after each death that comes within ``healthy_after``
    seconds of the start, and falls back to ``backoff_base`` after a long run.
    """

    def __init__(
        self,
        name: str,
        command: Sequence[str],
        env: Mapping[str, str],
        backoff_base: float = 1.0,
        backoff_max: float = 30.0,
        healthy_after: float = 30.0,
        pass_fds: Sequence[int] = (),
    ) -> None:
        self.name = name
        self.command = list(command)
        self.env = dict(env)
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.healthy_after = healthy_after
        #: Descriptors the child inherits (the shared listening socket of ``serve``).
        self.pass_fds = tuple(pass_fds)
        self.restarts = 0
        self.process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._watcher = threading.Thread(target=self._watch, name=f"watch-{name}", daemon=True)

    def start(self) -> Supervised:
        self._spawn()
        self._watcher.start()
        return self

    def _spawn(self) -> subprocess.Popen[bytes] | None:
        """Start the child, unless ``stop()`` came first."""
        with self._lock:
            if self._stopping.is_set():
                return None
            process = subprocess.Popen(
                self.command, env=self.env, preexec_fn=stop_with_parent, pass_fds=self.pass_fds
            )
            self.process = process
        log.info("started %s (pid %d)", self.name, process.pid)
        return process

    def _watch(self) -> None:
        delay = self.backoff_base
        process = self.process
        started = time.monotonic()
        while process is not None:
            code = process.wait()
            if self._stopping.is_set():
                return
            if time.monotonic() - started >= self.healthy_after:
                delay = self.backoff_base
            log.warning(
                "%s (pid %d) %s; starting it again in %.0fs",
                self.name,
                process.pid,
                exit_reason(code),
                delay,
            )
            if self._stopping.wait(delay):
                return
            self.restarts += 1
            delay = min(delay * 2, self.backoff_max)
            started = time.monotonic()
            process = self._spawn()

    def terminate(self) -> None:
        """Stop restarting and SIGTERM the child, without waiting for it to end."""
        self._stopping.set()
        with self._lock:
            process = self.process
        if process is not None and process.poll() is None:
            process.terminate()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop restarting, then SIGTERM the child (SIGKILL after ``timeout``)."""
        self.terminate()
        self.wait(timeout)

    def wait(self, timeout: float) -> None:
        """Wait for a terminated child to end; SIGKILL it after ``timeout`` seconds."""
        with self._lock:
            process = self.process
        if process is not None and process.poll() is None:
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._watcher.is_alive():
            self._watcher.join(timeout=5)


def stop_all(children: Sequence[Supervised], timeout: float = 10.0) -> None:
    """SIGTERM every child first, then wait for each: they wind down side by side."""
    for child in children:
        child.terminate()
    for child in children:
        child.wait(timeout)
