"""``python -m notifier.worker``: the same as the ``notifier-worker`` command."""

from notifier.worker import main

raise SystemExit(main())
