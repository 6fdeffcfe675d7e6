"""Does a Redis keep what is pushed to it?  The start-up check behind "none lost".

The outbox forgets an event once Redis has taken it: from then on the event
lives only in Redis.  A Redis without an append-only file loses every event
it holds when it dies (RDB snapshots lose those since the last one), so the
server warns at start, where the Redis lets it ask (``CONFIG GET``; managed
services often forbid it, and then nothing is said).
"""

from __future__ import annotations

import logging

import redis

log = logging.getLogger(__name__)

SAFE_FSYNC = ("always", "everysec")


def _config(client: redis.Redis, name: str) -> str:
    value = client.config_get(name).get(name, "")
    return value.decode() if isinstance(value, bytes) else str(value)


def persistence_problem(client: redis.Redis) -> str | None:
    """What this Redis would lose if it died, or None if it persists (or cannot tell)."""
    try:
        appendonly = _config(client, "appendonly")
        fsync = _config(client, "appendfsync")
        save = _config(client, "save")
    except redis.ResponseError:  # CONFIG is disabled: cannot tell
        return None
    except (redis.ConnectionError, redis.TimeoutError, OSError):  # down: the relay copes
        return None
    if appendonly == "yes" and fsync in SAFE_FSYNC:
        return None
    if appendonly == "yes":
        return f"its append-only file is synced by the OS only (appendfsync {fsync})"
    if save:
        return f"it has no append-only file, only snapshots (save {save!r})"
    return "it has no persistence at all (appendonly no, save '')"


def warn_if_not_durable(client: redis.Redis, listener: str, where: str) -> None:
    """Log a warning naming the listener when its Redis would lose pushed events."""
    problem = persistence_problem(client)
    if problem is not None:
        log.warning(
            "listener %s: the Redis at %s loses the events it holds if it dies: %s;"
            " 'none lost' needs appendonly yes with appendfsync everysec or always"
            " (docs/deployment.md)",
            listener,
            where,
            problem,
        )
