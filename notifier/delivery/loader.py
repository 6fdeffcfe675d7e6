"""Loading the listeners named in ``notifier.event_listeners``, checked at start-up.

Kinto's grammar: ``notifier.event_listeners = a b``, then
``notifier.event_listeners.a.use = dotted.module`` and a's own keys under
``notifier.event_listeners.a.``.  A module that declares its keys
(``SETTINGS_KEYS``, as the built-ins do) has any other key under its prefix
refused, with the closest known key suggested, before it loads.  A module
that declares none reads its settings however it likes (``settings.items()``
included) and its keys are not checked.  What it returns is checked against
the listener contract (``notifier.delivery.contract``).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from notifier.delivery.contract import (
    ContractError,
    HeartbeatResult,
    Listener,
    checked_listener,
    reports_health,
)
from notifier.delivery.events import ResourceChanged
from notifier.delivery.filters import FILTER_KEYS, EventFilter, filter_from_settings
from notifier.settings import (
    Section,
    SettingsError,
    as_list,
    check_known_keys,
    load_settings,
    suggestion,
)

PREFIX = "notifier.event_listeners"
BUILT_IN = (
    "notifier.listeners.log",
    "notifier.listeners.redis",
    "notifier.listeners.stream",
    "notifier.listeners.email",
)


@dataclass
class LoadedListener:
    """A checked listener with its INI name and the filter the dispatcher applies."""

    name: str
    listener: Listener
    event_filter: EventFilter
    wants_reads: bool = False

    def __post_init__(self) -> None:
        # Built directly (a worker, a test): the same check as a listener the INI loads.
        self.listener = checked_listener(self.listener)

    def wants(self, event: ResourceChanged) -> bool:
        return self.event_filter(event)

    def __call__(self, event: ResourceChanged) -> None:
        """Deliver one event if the filter wants it: a worker's handler."""
        if self.wants(event):
            self.deliver([event])

    def deliver(self, events: Sequence[ResourceChanged]) -> None:
        self.listener.deliver(events)

    def close(self) -> None:
        self.listener.close()

    def heartbeat(self) -> HeartbeatResult:
        return self.listener.heartbeat()

    @property
    def reports_health(self) -> bool:
        return reports_health(self.listener)

    def timeouts(self) -> Mapping[str, float]:
        return self.listener.timeouts()


def _import_listener_module(key: str, dotted: str) -> Any:
    """Import ``dotted``; "no such module" is a SettingsError, any other error is itself."""
    try:
        return importlib.import_module(dotted)
    except ModuleNotFoundError as error:
        missing = error.name or ""
        if not (dotted == missing or dotted.startswith(missing + ".")):
            raise  # the module exists but something it imports does not
        hint = suggestion(dotted, BUILT_IN)
        raise SettingsError(
            key,
            f"no module named {dotted!r}{hint}; built-in listeners: {', '.join(BUILT_IN)}",
            dotted,
        ) from None


def declared_keys(module: Any, use_key: str, dotted: str) -> tuple[str, ...] | None:
    """The keys ``module`` declares in ``SETTINGS_KEYS``, or None when it declares none."""
    keys = getattr(module, "SETTINGS_KEYS", None)
    if keys is None:
        return None
    if isinstance(keys, str) or not all(isinstance(key, str) for key in keys):
        raise SettingsError(use_key, "SETTINGS_KEYS must be a tuple of key names", dotted)
    return tuple(keys)


def _missing_use(settings: Mapping[str, Any], name: str, use_key: str) -> str:
    if name in as_list(settings.get(PREFIX, "")):
        return (
            f"is required: {name!r} is listed in {PREFIX} but has no module to use,"
            f" e.g. {use_key} = notifier.listeners.log"
        )
    configured = sorted(
        key[len(PREFIX) + 1 : -len(".use")]
        for key in settings
        if key.startswith(PREFIX + ".") and key.endswith(".use")
    )
    return (
        f"is required: no listener {name!r} is configured{suggestion(name, configured)};"
        f" configured: {', '.join(configured) or 'none'}"
    )


def load_listener(config: Any, settings: Mapping[str, Any], name: str) -> LoadedListener:
    """Build the listener called ``name`` from its INI keys, or raise SettingsError."""
    prefix = f"{PREFIX}.{name}."
    use_key = prefix + "use"
    dotted = str(settings.get(use_key) or "").strip()
    if not dotted:
        raise SettingsError(use_key, _missing_use(settings, name, use_key))
    module = _import_listener_module(use_key, dotted)
    factory = getattr(module, "load_from_config", None)
    if not callable(factory):
        raise SettingsError(use_key, "the module has no load_from_config(config, prefix)", dotted)
    keys = declared_keys(module, use_key, dotted)
    if keys is not None:
        check_known_keys(prefix, settings, ("use", *FILTER_KEYS, *keys))
    try:
        listener = checked_listener(factory(config, prefix))
    except ContractError as error:
        raise SettingsError(use_key, f"listener {name!r}: {error}", dotted) from None
    chosen = filter_from_settings(Section(settings, prefix))
    if listener.event_filter is not None:
        chosen &= listener.event_filter
    reads = "read" in as_list(settings.get(prefix + "actions", ""))
    return LoadedListener(name, listener, chosen, wants_reads=reads)


def listener_names(settings: Mapping[str, Any]) -> list[str]:
    names = as_list(settings.get(PREFIX, ""))
    for duplicate in {n for n in names if names.count(n) > 1}:
        raise SettingsError(PREFIX, f"lists {duplicate!r} twice", settings.get(PREFIX))
    return names


def load_listeners(config: Any, settings: Mapping[str, Any]) -> Iterator[LoadedListener]:
    """The listeners of ``notifier.event_listeners``, in INI order."""
    for name in listener_names(settings):
        yield load_listener(config, settings, name)


def listener_from_ini(path: str, name: str) -> LoadedListener:
    """The listener ``name`` of ``path``'s ``[app:main]``, checked and filtered as in the app.

    For the email test command and the worker scripts: the listener need not
    be named in ``notifier.event_listeners`` (a worker's listener usually is
    not, so the app does not also call it in the request).
    """
    from pyramid.config import Configurator
    from pyramid.paster import get_appsettings

    settings = load_settings(get_appsettings(path, name="main"))
    return load_listener(Configurator(settings=settings), settings, name)
