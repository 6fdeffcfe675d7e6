"""Send one email per queued event: the email listener, run by a worker.

    python workers/send_email.py app.ini --queue-listener redis \\
        --email-listener send_email [--burst]

The queue is the one the ``redis`` listener of app.ini fills; the email is
built by the ``send_email`` listener of the same file, exactly as the
application would send it synchronously.  Name the email listener under
``notifier.event_listeners.send_email.*`` but leave it out of
``notifier.event_listeners``, so the application does not also send it in the
request.  The runtime (notifier.worker) claims, retries and acknowledges.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
from collections.abc import Sequence

from notifier.delivery.loader import listener_from_ini
from notifier.worker import WorkerConfig, run

log = logging.getLogger("workers.send_email")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the worker until stopped (or until the queue is empty with --burst)."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    config = dataclasses.replace(
        WorkerConfig.from_ini(args.ini, args.queue_listener), burst=args.burst
    )
    handler = listener_from_ini(args.ini, args.email_listener)
    try:
        stats = run(handler, config)
    finally:
        close = getattr(handler, "close", None)
        if callable(close):
            close()
    log.info("send_email worker stopped: %s", stats)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Send one email per queued event.")
    parser.add_argument("ini", help="the application's INI file, e.g. app.ini")
    parser.add_argument("--queue-listener", default="redis", help="the Redis listener's name")
    parser.add_argument("--email-listener", default="send_email", help="the email listener's name")
    parser.add_argument("--burst", action="store_true", help="stop when the queue is empty")
    return parser


if __name__ == "__main__":
    sys.exit(main())
