"""The worker runtime and the event types import no Pyramid: a worker process stays small."""

from __future__ import annotations

import subprocess
import sys


def test_the_worker_runtime_imports_no_pyramid():
    command = 'import notifier.worker, sys; assert "pyramid" not in sys.modules'
    subprocess.run([sys.executable, "-c", command], check=True, timeout=60)


def test_events_queue_and_delivery_core_import_no_pyramid():
    command = (
        "import sys, notifier, notifier.delivery.events, notifier.queue, notifier.queue.protocol,"
        " notifier.delivery.dispatcher, notifier.delivery.relay, notifier.delivery.setup;"
        " loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'pyramid');"
        " assert not loaded, loaded"
    )
    subprocess.run([sys.executable, "-c", command], check=True, timeout=60)
