"""The push service: live events over Server-Sent Events and WebSocket.

An asyncio process of its own (``notifier push app.ini``, or ``python -m
notifier.push app.ini``) that reads the Redis Stream the stream listener
writes, once per process, and fans each event out to the subscribers of the
bucket, collection or record it is about; with replay by stream position,
and the ``/console`` page.

Owns: ``notifier/push/``.  May import ``notifier.settings``, ``notifier.logs``,
``notifier.storage``, ``notifier.permissions``, ``notifier.accounts``,
``notifier.queue`` and, for its ``/metrics`` (``notifier.push.metrics``),
prometheus_client.
Importing this package does no work and pulls in no server library: the API
imports ``notifier.push.tokens`` to issue subscription tokens.

Never imports: ``notifier.http``, ``pyramid``.
"""
