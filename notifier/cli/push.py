"""``notifier push [INI]``: the push service of an INI file (docs/push.md).

The same service as ``python -m notifier.push INI``: live events over
Server-Sent Events and WebSocket, replay, and the ``/console`` page.
"""

from __future__ import annotations

import click

from notifier.cli.common import ini_argument, read_ini, traceback_option


@click.command("push")
@ini_argument
@traceback_option
def command(ini: str) -> None:
    """Serve live events (SSE, WebSocket) and the /console page until Ctrl-C or SIGTERM."""
    from pyramid.paster import setup_logging

    from notifier.push.__main__ import serve_ini

    ini = read_ini(ini)
    setup_logging(ini)
    serve_ini(ini)
