"""``POST /v1/__flush__``: delete every object and permission (Kinto's flush plugin).

It empties what the API serves (buckets and all below them, accounts) and
keeps notifier's own state (``notifier.storage.INTERNAL_PARENT``: which
webhook endpoints a 410 disabled), which is no client's data: a flushed
test server must not start posting to an endpoint that said it is gone.

Meant for test servers, as in Kinto: anyone may call it, so never include
it on a server whose data matters.  No event is emitted for the objects it
removes (Kinto's ``ServerFlushed`` has no per-object events either); outbox
entries of earlier writes are kept and still delivered.
"""

from __future__ import annotations

import logging
from typing import Any

from cornice import Service
from pyramid.config import Configurator
from pyramid.request import Request

from notifier.delivery.changes import current

log = logging.getLogger(__name__)

flush = Service(name="flush", path="/__flush__", description="Delete everything")


@flush.post()
def post_flush(request: Request) -> dict[str, Any]:
    """202 and ``{}``, as Kinto answers, once the objects are gone."""
    session = current(request).session
    removed = session.purge_children("")
    session.delete_permissions("")
    log.warning("flush: %d objects deleted by %s", len(removed), request.client_addr)
    request.response.status = 202
    return {}


def includeme(config: Configurator) -> None:
    config.add_capability(
        "flush_endpoint",
        "The __flush__ endpoint can be used to remove all data from all backends.",
        url="https://kinto.readthedocs.io/en/latest/configuration/settings.html",
    )
    config.add_cornice_service(flush)
