"""Redis defaults, named once: listeners, worker, push and the commands agree.

=================  ============================  =========================================
name               value                         where it applies
=================  ============================  =========================================
``URL``            ``redis://localhost:6379/0``  ``workers/print_events.py`` (the
                                                 ``notifier`` commands read the INI's
                                                 listener instead)
``LISTNAME``       ``eventqueue``                the Redis listener's ``listname``,
                                                 ``--listname``
``LISTENER``       ``redis``                     ``--listener``: whose settings the INI
                                                 gives
``STREAM``         ``eventstream``               the stream listener's ``stream``
``STREAM_MAXLEN``  ``100000``                    the stream listener's ``maxlen``
=================  ============================  =========================================

The Redis keys derived from a list name are ``QueueKeys``' (``protocol``).
"""

from __future__ import annotations

from typing import Final

URL: Final = "redis://localhost:6379/0"
LISTNAME: Final = "eventqueue"
LISTENER: Final = "redis"
STREAM: Final = "eventstream"
STREAM_MAXLEN: Final = 100_000
