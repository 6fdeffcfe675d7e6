"""The queue's defaults, named once: the listener, the worker and the commands agree.

============  ============================  ==============================================
name          value                         where it applies
============  ============================  ==============================================
``URL``       ``redis://localhost:6379/0``  ``--url`` of the worker and queue commands,
                                            ``workers/print_events.py``
``LISTNAME``  ``eventqueue``                the Redis listener's ``listname``, ``--listname``
``LISTENER``  ``redis``                     ``--listener``: whose settings ``--ini`` reads
============  ============================  ==============================================

The Redis keys derived from a list name are ``QueueKeys``' (``protocol``).
"""

from __future__ import annotations

from typing import Final

URL: Final = "redis://localhost:6379/0"
LISTNAME: Final = "eventqueue"
LISTENER: Final = "redis"
