"""``event.request`` when the request is gone: a stand-in rebuilt from the outbox.

Kinto's listeners read the request an event came from (the tutorial's
``event.request.prefixed_userid``, kinto-emailer's ``event.request.registry``).
In the request thread they get the live request; the relay's retries and the
replays of dead letters get a ``StandInRequest``, made from what ``snapshot``
stored beside the event in the outbox, and the app's registry.  The
snapshot keeps no credentials: ``Authorization``, ``Cookie`` and
``Proxy-Authorization`` are left out.  Nothing here imports Pyramid until a
listener asks for a route's URL.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote, urlencode

from notifier.delivery.events import ResourceChanged

SECRET_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})


def snapshot(request: Any) -> dict[str, Any]:
    """What a stand-in needs of a live (Pyramid) request, as plain JSON-ready data."""
    if request is None:
        return {}
    route = getattr(request, "matched_route", None)
    userid = request.authenticated_userid
    return {
        "method": request.method,
        "path": request.path,
        "url": request.url,
        "application_url": request.application_url,
        "client_addr": request.client_addr,
        "headers": {k: v for k, v in request.headers.items() if k.lower() not in SECRET_HEADERS},
        "authenticated_userid": userid,
        "prefixed_userid": getattr(request, "prefixed_userid", userid),
        "matched_route": route.name if route is not None else None,
        "matchdict": dict(request.matchdict or {}),
    }


class Headers(Mapping[str, str]):
    """Read-only headers whose names are case-insensitive, as a request's are."""

    def __init__(self, items: Mapping[str, str]) -> None:
        self._items = {name.lower(): (name, value) for name, value in items.items()}

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()][1]

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)


class StandInRequest:
    """The Kinto-shaped request of a delivery outside the request thread.

    It has the attributes listeners read (``prefixed_userid``,
    ``authenticated_userid``, ``method``, ``path``, ``url``, ``headers``,
    ``client_addr``, ``matchdict``, ``registry``, ``request_id``), and ``route_path`` and
    ``route_url`` built from the app's routes.
    """

    def __init__(
        self,
        data: Mapping[str, Any],
        registry: Any,
        user_id: str | None = None,
        request_id: str | None = None,
    ) -> None:
        self.registry = registry
        #: The original request's id, as ``request.request_id`` is on the live one.
        self.request_id = request_id
        self.method: str = data.get("method", "")
        self.path: str = data.get("path", "")
        self.url: str = data.get("url", "")
        self.application_url: str = data.get("application_url", "")
        self.host_url = self.application_url
        self.client_addr: str | None = data.get("client_addr")
        self.remote_addr = self.client_addr
        self.headers = Headers(data.get("headers") or {})
        self.user_agent = self.headers.get("User-Agent")
        # An entry written before requests were stored still has its payload's user_id.
        self.authenticated_userid: str | None = data.get("authenticated_userid", user_id)
        self.prefixed_userid: str | None = data.get("prefixed_userid", user_id)
        self.matched_route_name: str | None = data.get("matched_route")
        self.matchdict: dict[str, str] = dict(data.get("matchdict") or {})

    def __repr__(self) -> str:
        return f"<StandInRequest {self.method} {self.path} for {self.prefixed_userid}>"

    def route_path(self, route_name: str, *elements: str, **kw: Any) -> str:
        """The path of route ``route_name``, as Pyramid's ``request.route_path`` builds it."""
        from pyramid.interfaces import IRoutesMapper

        route = self.registry.getUtility(IRoutesMapper).get_route(route_name)
        if route is None:
            raise KeyError(f"No such route named {route_name}")
        query = kw.pop("_query", None)
        path: str = route.generate(kw)
        if elements:
            path = path.rstrip("/") + "/" + "/".join(quote(str(e), safe="") for e in elements)
        if query:
            path += "?" + (query if isinstance(query, str) else urlencode(query, doseq=True))
        return path

    def route_url(self, route_name: str, *elements: str, **kw: Any) -> str:
        """``route_path`` on the URL the original request came to."""
        return self.application_url.rstrip("/") + self.route_path(route_name, *elements, **kw)


def from_outbox(message: str | bytes, registry: Any) -> ResourceChanged:
    """The event of an outbox entry, its ``request`` a stand-in for the one that made it."""
    event, data = ResourceChanged.from_outbox(message)
    request = StandInRequest(data, registry, event.payload.get("user_id"), event.request_id)
    return dataclasses.replace(event, request=request)
