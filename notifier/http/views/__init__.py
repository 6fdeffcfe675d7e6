"""The HTTP API: cornice services for every resource, plus batch and utility views."""

from __future__ import annotations

from collections.abc import Callable

from cornice import Service
from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.response import Response

from notifier.http.views.resource import Resource
from notifier.http.views.specs import SPECS, ResourceSpec

# Pyramid tries an endpoint's views in the order they were added, and each one
# whose method does not match costs a discarded 404 response (about 20 us).
# So the plural endpoint lists POST, the create that emits events, before GET
# (and the HEAD cornice adds after it); the object endpoint lists GET first.
PLURAL_METHODS = {"POST": "create", "GET": "list", "DELETE": "delete_list"}
OBJECT_METHODS = {"GET": "get", "PUT": "put", "PATCH": "patch", "DELETE": "delete"}


def _view(spec: ResourceSpec, action: str) -> Callable[[Request], Response]:
    def view(request: Request) -> Response:
        # A GET of one object reads its parents only when it is missing.
        resource = Resource(request, spec, check_parents=action != "get")
        response: Response = getattr(resource, action)()
        return response

    view.__name__ = f"{spec.name}_{action}"
    view.__doc__ = f"{action} {spec.plural}"
    return view


def resource_services(spec: ResourceSpec) -> list[Service]:
    """The plural and the object endpoint of one kind of object."""
    services = []
    for suffix, path, methods in (
        ("plural", spec.plural_path, PLURAL_METHODS),
        ("object", spec.object_path, OBJECT_METHODS),
    ):
        service = Service(
            name=f"{spec.name}-{suffix}", path=path, description=f"{spec.plural} ({suffix})"
        )
        for method, action in methods.items():
            service.add_view(method, _view(spec, action))
        services.append(service)
    return services


def includeme(config: Configurator) -> None:
    config.include("cornice")
    for spec in SPECS:
        for service in resource_services(spec):
            config.add_cornice_service(service)
    config.include("notifier.http.views.batch")
    config.include("notifier.http.views.utility")
    config.include("notifier.http.views.push")
    config.include("notifier.http.views.user_permissions")
