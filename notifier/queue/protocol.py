"""The Redis queue protocol shared by the listener, the workers and the admin CLI.

Keys, all starting with the list name so one ``SCAN <listname>*`` finds them:

``<listname>``                      the queue: RPUSH by producers, claimed from the head
``<listname>:processing:<worker>``  one worker's claimed, unacknowledged messages
``<listname>:delayed``              ZSET of failed messages waiting for a retry (score: due)
``<listname>:attempts``             HASH sha1(message) -> failed attempts so far
``<listname>:dead``                 dead letters, JSON, oldest first
``<listname>:workers``              SET of worker ids that may own a processing list
``<listname>:worker:<worker>``      heartbeat, expires unless the worker refreshes it

Queue entries are the event messages themselves, untouched, so a plain
``BLPOP`` consumer and the reliable runtime can read the same list.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import redis


@dataclass(frozen=True)
class QueueKeys:
    """The key names of one queue."""

    listname: str

    @property
    def queue(self) -> str:
        return self.listname

    @property
    def dead(self) -> str:
        return f"{self.listname}:dead"

    @property
    def delayed(self) -> str:
        return f"{self.listname}:delayed"

    @property
    def attempts(self) -> str:
        return f"{self.listname}:attempts"

    @property
    def workers(self) -> str:
        return f"{self.listname}:workers"

    def processing(self, worker_id: str) -> str:
        return f"{self.listname}:processing:{worker_id}"

    def heartbeat(self, worker_id: str) -> str:
        return f"{self.listname}:worker:{worker_id}"


def message_id(message: bytes | str) -> str:
    """The field under which a message's attempts are counted (Lua's sha1hex)."""
    raw = message.encode() if isinstance(message, str) else message
    return hashlib.sha1(raw).hexdigest()


def utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class DeadLetter:
    """A message that failed ``attempts`` times, with the last error."""

    message: str
    error: str
    attempts: int
    time: str
    worker: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: bytes | str) -> DeadLetter:
        data = json.loads(text)
        return cls(
            message=str(data["message"]),
            error=str(data["error"]),
            attempts=int(data["attempts"]),
            time=str(data["time"]),
            worker=str(data.get("worker", "")),
        )


def depth(client: redis.Redis, listname: str) -> int:
    """Messages waiting in the queue (not claimed, not delayed)."""
    return int(client.llen(QueueKeys(listname).queue))


def delayed_count(client: redis.Redis, listname: str) -> int:
    """Failed messages waiting for their retry."""
    return int(client.zcard(QueueKeys(listname).delayed))


def dead_count(client: redis.Redis, listname: str) -> int:
    """Dead letters waiting for a replay or a purge."""
    return int(client.llen(QueueKeys(listname).dead))


def live_workers(client: redis.Redis, listname: str) -> dict[str, dict[str, Any]]:
    """Workers whose heartbeat has not expired, with what they wrote in it."""
    keys = QueueKeys(listname)
    ids = sorted(_decode(member) for member in client.smembers(keys.workers))
    if not ids:
        return {}
    beats = client.mget([keys.heartbeat(worker_id) for worker_id in ids])
    return {worker_id: json.loads(beat) for worker_id, beat in zip(ids, beats, strict=True) if beat}


def worker_alive(client: redis.Redis, listname: str) -> bool:
    """True when at least one worker's heartbeat is live (for the app's heartbeat)."""
    return bool(live_workers(client, listname))


def inflight(client: redis.Redis, listname: str) -> dict[str, int]:
    """Claimed, unacknowledged messages per registered worker (dead ones included)."""
    keys = QueueKeys(listname)
    ids = sorted(_decode(member) for member in client.smembers(keys.workers))
    with client.pipeline(transaction=False) as pipe:
        for worker_id in ids:
            pipe.llen(keys.processing(worker_id))
        counts = pipe.execute()
    return {worker_id: int(count) for worker_id, count in zip(ids, counts, strict=True)}


def dead_letters(
    client: redis.Redis, listname: str, start: int = 0, count: int = 100
) -> list[DeadLetter]:
    """Dead letters, oldest first, from index ``start``."""
    entries = client.lrange(QueueKeys(listname).dead, start, start + count - 1)
    return [DeadLetter.from_json(entry) for entry in entries]


# Pops one dead letter and pushes its message back at the queue's tail, with a
# fresh attempt count, atomically: a crash between the two cannot lose it.
REPLAY_SCRIPT = """
local moved = 0
for i = 1, tonumber(ARGV[1]) do
  local entry = redis.call('LPOP', KEYS[1])
  if not entry then break end
  local message = cjson.decode(entry)['message']
  redis.call('RPUSH', KEYS[2], message)
  redis.call('HDEL', KEYS[3], redis.sha1hex(message))
  moved = moved + 1
end
return moved
"""


def replay_dead(client: redis.Redis, listname: str, count: int | None = None) -> int:
    """Move dead letters (oldest first; all when ``count`` is None) back to the queue."""
    keys = QueueKeys(listname)
    limit = int(client.llen(keys.dead)) if count is None else count
    replay = client.register_script(REPLAY_SCRIPT)
    return int(replay(keys=[keys.dead, keys.queue, keys.attempts], args=[limit]))


def purge_dead(client: redis.Redis, listname: str, count: int | None = None) -> int:
    """Delete dead letters (oldest first; all when ``count`` is None); returns how many."""
    key = QueueKeys(listname).dead
    with client.pipeline(transaction=True) as pipe:
        pipe.llen(key)
        if count is None:
            pipe.delete(key)
        else:
            pipe.ltrim(key, count, -1)
        before = int(pipe.execute()[0])
    return before if count is None else min(before, count)


def _decode(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def now() -> float:
    """Wall-clock seconds, the unit of ``delayed`` scores (a seam for tests)."""
    return time.time()
