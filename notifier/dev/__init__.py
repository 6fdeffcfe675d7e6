"""Development helpers: a private Redis server and children tied to their parent.

Used by ``serve --dev`` and the tests; imports nothing of the HTTP layer.

Never imports: ``notifier.http``, ``pyramid``.

Imported only by: ``notifier.cli``, ``notifier.dev`` (and the tests).
"""
