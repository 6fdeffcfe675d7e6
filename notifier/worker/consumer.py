"""The queue operations of one worker identity, each atomic in Redis.

A worker thread claims into its own processing list, so a message is always in
exactly one place: the queue, a processing list, the delayed set or the dead
list.  Every move between them is one command or one Lua script, so a crash
at any point leaves the message somewhere the reaper or a retry finds it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import redis

from notifier.queue.protocol import DeadLetter, QueueKeys, message_id, now, utcnow
from notifier.retry import RetryPolicy

# Up to ARGV[1] messages from the queue's head to the processing list, in one
# round trip (LRANGE + LTRIM + LPUSH is cheaper than n LMOVEs).
CLAIM_SCRIPT = """
local messages = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
if #messages > 0 then
  redis.call('LTRIM', KEYS[1], #messages, -1)
  redis.call('LPUSH', KEYS[2], unpack(messages))
end
return messages
"""

# Acknowledge: the oldest claimed message sits at the processing list's tail,
# so LREM from the tail finds each one at once.  Attempt counters exist only
# for messages that failed before, so the HDELs are skipped when there are none.
ACK_SCRIPT = """
for i = 1, #ARGV do redis.call('LREM', KEYS[1], -1, ARGV[i]) end
if redis.call('HLEN', KEYS[2]) > 0 then
  for i = 1, #ARGV do redis.call('HDEL', KEYS[2], redis.sha1hex(ARGV[i])) end
end
return #ARGV
"""

# Give claimed messages back to the queue's head, oldest first in the end.
REQUEUE_SCRIPT = """
local moved = 0
for i = #ARGV, 1, -1 do
  if redis.call('LREM', KEYS[1], -1, ARGV[i]) > 0 then
    redis.call('LPUSH', KEYS[2], ARGV[i])
    moved = moved + 1
  end
end
return moved
"""

# Everything a processing list holds back to the queue's head, order kept.
REQUEUE_ALL_SCRIPT = """
local moved = 0
while redis.call('LMOVE', KEYS[1], KEYS[2], 'LEFT', 'LEFT') do moved = moved + 1 end
return moved
"""


@dataclass
class Retry:
    """What ``Consumer.fail`` did with a failed message."""

    attempts: int
    dead: bool
    delay: float = 0.0


class Consumer:
    """Claim, acknowledge, retry and dead-letter for one worker id."""

    def __init__(
        self,
        client: redis.Redis,
        keys: QueueKeys,
        worker_id: str,
        retry: RetryPolicy,
    ) -> None:
        self.client = client
        self.keys = keys
        self.worker_id = worker_id
        self.processing = keys.processing(worker_id)
        self.retry = retry
        self._claim = client.register_script(CLAIM_SCRIPT)
        self._ack = client.register_script(ACK_SCRIPT)
        self._requeue = client.register_script(REQUEUE_SCRIPT)
        self._requeue_all = client.register_script(REQUEUE_ALL_SCRIPT)

    def claim(self, count: int, timeout: float | None) -> list[bytes]:
        """Up to ``count`` messages; waits up to ``timeout`` seconds (None: no wait)."""
        keys = [self.keys.queue, self.processing]
        if count > 1:
            messages = list(self._claim(keys=keys, args=[count]))
            if messages or timeout is None:
                return messages
        message: Any
        if timeout is None:
            message = self.client.lmove(self.keys.queue, self.processing, "LEFT", "LEFT")
        else:
            # Redis >= 6 takes decimal seconds; redis-py's stubs say int.
            blocking: Any = timeout
            message = self.client.blmove(self.keys.queue, self.processing, blocking, "LEFT", "LEFT")
        return [] if message is None else [message]

    def ack(self, messages: Sequence[bytes]) -> None:
        """The handler returned for these messages: forget them."""
        if messages:
            self._ack(keys=[self.processing, self.keys.attempts], args=list(messages))

    def fail(self, message: bytes, error: str) -> Retry:
        """Count a failed attempt; schedule a retry, or dead-letter after the last."""
        attempts = int(self.client.hincrby(self.keys.attempts, message_id(message), 1))
        delay = self.retry.next_delay(attempts)
        if delay is None:
            self.bury(message, error, attempts)
            return Retry(attempts, dead=True)
        with self.client.pipeline(transaction=True) as pipe:
            pipe.zadd(self.keys.delayed, {message: now() + delay})
            pipe.lrem(self.processing, -1, message)  # type: ignore[arg-type]
            pipe.execute()
        return Retry(attempts, dead=False, delay=delay)

    def bury(self, message: bytes, error: str, attempts: int) -> None:
        """Move a message to the dead list with its last error."""
        letter = DeadLetter(
            message=message.decode("utf-8", "replace"),
            error=error,
            attempts=attempts,
            time=utcnow(),
            worker=self.worker_id,
        )
        with self.client.pipeline(transaction=True) as pipe:
            pipe.rpush(self.keys.dead, letter.to_json())
            pipe.lrem(self.processing, -1, message)  # type: ignore[arg-type]
            pipe.hdel(self.keys.attempts, message_id(message))
            pipe.execute()

    def requeue(self, messages: Sequence[bytes]) -> int:
        """Give back claimed messages that were not handled (warm stop mid-batch)."""
        if not messages:
            return 0
        return int(self._requeue(keys=[self.processing, self.keys.queue], args=list(messages)))

    def requeue_all(self) -> int:
        """Give back everything this worker holds (cold stop)."""
        return int(self._requeue_all(keys=[self.processing, self.keys.queue]))


def heartbeat_info(pid: int, host: str, started: str) -> str:
    return json.dumps({"pid": pid, "host": host, "started": started}, separators=(",", ":"))
