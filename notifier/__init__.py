"""notifier: a Kinto-compatible JSON record service whose writes notify listeners.

``main`` is the PasteDeploy app factory (``use = egg:notifier``);
``includeme`` adds notifier to an existing Pyramid configuration; ``shutdown``
stops what ``main`` started.  They import the app's assembly
(``notifier.app``) when called, so that importing ``notifier`` (say, for the
worker runtime) imports no Pyramid.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def main(global_config: dict[str, Any] | None = None, **settings: Any) -> Any:
    """The WSGI application for ``pserve``; starts the in-process relay unless disabled."""
    from notifier.app import make_app

    return make_app(global_config, settings)


def includeme(config: Any) -> None:
    """Set notifier up on a Pyramid ``config``; a bad setting raises SettingsError."""
    from notifier.app import includeme as include

    include(config)


def shutdown(registry: Any) -> None:
    """Stop what the app started: the relay thread, the listeners' clients, the storage."""
    from notifier.app import shutdown as stop

    stop(registry)
