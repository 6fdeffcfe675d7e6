"""The queue's defaults, named once: the listener, the worker and the commands agree.

============  ============================  ==============================================
name          value                         where it applies
============  ============================  ==============================================
``URL``       ``redis://localhost:6379/0``  ``workers/print_events.py`` (the ``notifier``
                                            commands read the INI's listener instead)
``LISTNAME``  ``eventqueue``                the Redis listener's ``listname``, ``--listname``
``LISTENER``  ``redis``                     ``--listener``: whose settings the INI gives
============  ============================  ==============================================

The Redis keys derived from a list name are ``QueueKeys``' (``protocol``).
"""

from __future__ import annotations

from typing import Final

URL: Final = "redis://localhost:6379/0"
LISTNAME: Final = "eventqueue"
LISTENER: Final = "redis"
