"""Plugin modules that the tests name in ``notifier.includes``."""
