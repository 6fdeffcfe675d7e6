"""The HTTP API: Kinto's v1 resources as cornice views, with what they stand on.

Owns authentication, permissions, Kinto's error JSON, the request class and
the transaction tween that opens a storage session per request and drives
delivery's commit hooks.  May import ``notifier.delivery``,
``notifier.storage``, ``notifier.permissions`` and ``notifier.settings``;
nothing below imports it.

Never imports: ``notifier.listeners.*``, ``notifier.worker``, ``notifier.cli``.
"""
