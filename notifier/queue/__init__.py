"""The Redis queue protocol: its keys, its message format, its connections.

Shared by the Redis listener, the worker runtime and the queue commands, so
all three agree on every key and URL.  Imports only redis and
``notifier.settings``: no Pyramid, no storage.

Never imports: ``notifier.http``, ``pyramid``, ``notifier.storage``,
``notifier.delivery``, ``notifier.worker``, ``notifier.cli``.
"""
