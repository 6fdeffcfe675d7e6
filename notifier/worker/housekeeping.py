"""What every worker does periodically: heartbeat, reap dead workers, promote retries.

Each step is one pipeline or one Lua script, so any number of workers can run
them at the same time: the second reaper finds nothing left to reap.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import redis

from notifier.queue.protocol import QueueKeys, now, utcnow

log = logging.getLogger(__name__)

# For each registered worker whose heartbeat expired (and that is not one of
# the caller's own, ARGV[4..]), give its processing list back to the queue's
# head, order kept.  A message held by a worker that died counts one attempt,
# so a message that kills every worker that takes it ends in the dead list.
REAP_SCRIPT = """
local listname, max_attempts, when = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local own = {}
for i = 4, #ARGV do own[ARGV[i]] = true end
local returned, buried = 0, 0
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if not own[id] and redis.call('EXISTS', listname .. ':worker:' .. id) == 0 then
    local processing = listname .. ':processing:' .. id
    while true do
      local message = redis.call('LPOP', processing)
      if not message then break end
      local attempts = redis.call('HINCRBY', KEYS[3], redis.sha1hex(message), 1)
      if attempts >= max_attempts then
        redis.call('RPUSH', KEYS[4], cjson.encode({message = message, attempts = attempts,
          error = 'worker ' .. id .. ' died while handling it', time = when, worker = id}))
        redis.call('HDEL', KEYS[3], redis.sha1hex(message))
        buried = buried + 1
      else
        redis.call('LPUSH', KEYS[2], message)
        returned = returned + 1
      end
    end
    redis.call('SREM', KEYS[1], id)
  end
end
return {returned, buried}
"""

# Failed messages whose retry is due go back to the queue's head, earliest first.
PROMOTE_SCRIPT = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for i = #due, 1, -1 do redis.call('LPUSH', KEYS[2], due[i]) end
if #due > 0 then redis.call('ZREM', KEYS[1], unpack(due)) end
return #due
"""


def heartbeat(
    client: redis.Redis, keys: QueueKeys, worker_ids: Sequence[str], info: str, ttl: float
) -> None:
    """Register the workers and refresh their heartbeats for ``ttl`` seconds."""
    with client.pipeline(transaction=False) as pipe:
        pipe.sadd(keys.workers, *worker_ids)
        for worker_id in worker_ids:
            pipe.set(keys.heartbeat(worker_id), info, px=max(1, int(ttl * 1000)))
        pipe.execute()


def unregister(client: redis.Redis, keys: QueueKeys, worker_ids: Sequence[str]) -> None:
    """Remove the heartbeats of workers that hold nothing; the others expire and get reaped."""
    for worker_id in worker_ids:
        if client.llen(keys.processing(worker_id)) == 0:
            with client.pipeline(transaction=True) as pipe:
                pipe.delete(keys.heartbeat(worker_id))
                pipe.srem(keys.workers, worker_id)
                pipe.execute()
        else:
            log.warning("worker %s still holds messages; the reaper will return them", worker_id)


def reap(
    client: redis.Redis, keys: QueueKeys, own_ids: Sequence[str], max_attempts: int
) -> tuple[int, int]:
    """Return dead workers' messages to the queue; (returned, dead-lettered)."""
    script = client.register_script(REAP_SCRIPT)
    returned, buried = script(
        keys=[keys.workers, keys.queue, keys.attempts, keys.dead],
        args=[keys.listname, max_attempts, utcnow(), *own_ids],
    )
    if returned or buried:
        log.warning(
            "reaper on %s: returned %d messages of dead workers to the queue, dead-lettered %d",
            keys.listname,
            returned,
            buried,
        )
    return int(returned), int(buried)


def promote_due(client: redis.Redis, keys: QueueKeys, limit: int = 1000) -> int:
    """Move failed messages whose retry is due back to the queue."""
    script = client.register_script(PROMOTE_SCRIPT)
    return int(script(keys=[keys.delayed, keys.queue], args=[now(), limit]))
