"""Request ids and the log format: what ties a log line to the request behind it.

The id of the request being served lives in a context variable
(``notifier.logs.context``), so every log line written while it runs, the
listeners' included, can carry it without being handed it; a filter puts it
on each record, and ``notifier.log_format = json`` writes each record as one
JSON object.  The HTTP layer sets the id, the worker and the relay set it
from the event they handle.  It stands below everything that logs, so it
imports nothing of notifier but the settings.

Never imports: ``notifier.http``, ``notifier.delivery``, ``notifier.storage``,
``notifier.listeners``, ``notifier.worker``, ``notifier.cli``, ``pyramid``.
"""
