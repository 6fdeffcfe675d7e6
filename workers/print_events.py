"""The plainest consumer: BLPOP events off the queue and print them.

    python workers/print_events.py [redis_url] [listname]

No acknowledgement: a message is gone once popped.  Use ``notifier worker``
when a crash must not lose one.
"""

from __future__ import annotations

import json
import sys

import redis

from notifier.queue import defaults


def main(url: str = defaults.URL, listname: str = defaults.LISTNAME) -> None:
    client = redis.Redis.from_url(url, socket_timeout=10)  # longer than the BLPOP timeout
    while True:
        popped = client.blpop([listname], timeout=5)
        if popped is not None:
            event = json.loads(popped[1])
            print(event["action"], event.get("uri"), event.get("event_id"), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:3])
