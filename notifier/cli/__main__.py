"""``python -m notifier.cli``: the ``notifier`` command, for a checkout without its script."""

import sys

from notifier.cli.main import main

sys.exit(main())
