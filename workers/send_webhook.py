"""POST each queued event to a webhook listener's endpoints: the webhook, run by a worker.

    python workers/send_webhook.py app.ini --queue-listener redis \\
        --webhook-listener hook [--burst]

For those who keep outbound HTTP out of the server: the ``redis`` listener
of app.ini fills the queue, and this worker signs and POSTs each event with
the settings of the ``hook`` listener of the same file (its URL, secret,
headers and filters), exactly as the application would.  Leave ``hook`` out
of ``notifier.event_listeners`` so the application does not also send it.
The runtime (notifier.worker) claims, retries and acknowledges; an event an
endpoint refuses for good (410 Gone, an address inside the network) is
dead-lettered at once.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
from collections.abc import Sequence

from notifier.listeners.webhook import listener_from_ini
from notifier.worker import WorkerConfig, run

log = logging.getLogger("workers.send_webhook")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the worker until stopped (or until the queue is empty with --burst)."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    config = dataclasses.replace(
        WorkerConfig.from_ini(args.ini, args.queue_listener),
        burst=args.burst,
        concurrency=args.concurrency,
    )
    handler = listener_from_ini(args.ini, args.webhook_listener)
    try:
        stats = run(handler, config)
    finally:
        handler.close()
    log.info("send_webhook worker stopped: %s", stats)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="POST each queued event to a webhook.")
    parser.add_argument("ini", help="the application's INI file, e.g. app.ini")
    parser.add_argument("--queue-listener", default="redis", help="the Redis listener's name")
    parser.add_argument("--webhook-listener", default="hook", help="the webhook listener's name")
    parser.add_argument("--burst", action="store_true", help="stop when the queue is empty")
    parser.add_argument(
        "--concurrency", type=int, default=1, help="threads; above 1 events may arrive out of order"
    )
    return parser


if __name__ == "__main__":
    sys.exit(main())
