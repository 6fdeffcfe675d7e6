"""The one delivery core: events, the dispatcher, filters, the outbox relay.

A committed write's events go to the INI's listeners through here, and only
through here.  May import ``notifier.storage``, ``notifier.retry``,
``notifier.settings`` and ``notifier.logs`` (the request id); never
``notifier.http`` (the tween there calls in).  Listeners depend on this
package's event types, not the other way round.

Never imports: ``notifier.http``, ``notifier.cli``, ``notifier.listeners.*``
(the concrete listeners, that is; the contract itself is fine).
"""
