"""WorkerConfig: how a worker reads its queue, from arguments or from the app's INI."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from notifier.queue import defaults
from notifier.queue.connection import check_url
from notifier.retry import RetryPolicy
from notifier.settings import Section, read_ini

#: Largest batch one claim script moves (Lua's unpack() has a stack limit).
MAX_BATCH = 1000

#: A worker's retries unless told otherwise: fewer attempts than the outbox's,
#: since a handler's failure is more often the message's fault than a target's.
WORKER_RETRY = RetryPolicy(max_attempts=5, backoff_base=1.0, backoff_max=300.0)


@dataclass
class WorkerConfig:
    """How a worker reads its queue.  Times are in seconds."""

    redis_url: str
    listname: str
    burst: bool = False
    concurrency: int = 1
    batch_size: int = 1
    retry: RetryPolicy = WORKER_RETRY
    heartbeat_ttl: float = 30.0
    block_timeout: float = 1.0
    socket_timeout: float | None = None
    #: The longest wait between two tries of a Redis that is down.  Short, as the
    #: relay's probe of a paused listener is (a refused connection costs nothing):
    #: a worker takes events again within about a second of Redis's return,
    #: however long the outage was.
    redis_retry_max: float = 1.0

    def __post_init__(self) -> None:
        check_url("redis_url", self.redis_url)
        for name, minimum, maximum in (
            ("concurrency", 1, 256),
            ("batch_size", 1, MAX_BATCH),
        ):
            value = getattr(self, name)
            if value < minimum or (maximum is not None and value > maximum):
                upper = f" and <= {maximum}" if maximum else ""
                raise ValueError(f"WorkerConfig.{name} must be >= {minimum}{upper}, got {value}")
        for name in ("heartbeat_ttl", "block_timeout"):
            if getattr(self, name) <= 0:
                raise ValueError(f"WorkerConfig.{name} must be > 0, got {getattr(self, name)}")
        if self.read_timeout <= self.block_timeout:
            raise ValueError(
                "WorkerConfig.socket_timeout must be longer than block_timeout"
                f" ({self.read_timeout} <= {self.block_timeout}), or a blocking claim times out"
            )

    @property
    def read_timeout(self) -> float:
        """The socket timeout: ``socket_timeout``, by default 5s over the block timeout."""
        return self.block_timeout + 5.0 if self.socket_timeout is None else self.socket_timeout

    @classmethod
    def from_ini(cls, path: str, listener_name: str, **overrides: Any) -> WorkerConfig:
        """Read the Redis listener ``listener_name``'s URL and list from ``[app:main]``.

        Raises SettingsError naming ``notifier.event_listeners.<name>.url`` when it
        is missing or not a Redis URL.
        """
        settings = read_ini(path)
        section = Section(settings, f"notifier.event_listeners.{listener_name}.")
        url = check_url(section.key("url"), section.str("url"))
        listname = section.str("listname", defaults.LISTNAME)
        values: dict[str, Any] = {"redis_url": url, "listname": listname, **overrides}
        return cls(**values)
