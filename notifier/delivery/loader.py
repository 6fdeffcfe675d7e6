"""Loading the listeners named in ``notifier.event_listeners``, checked at start-up.

Kinto's grammar: ``notifier.event_listeners = a b``, then
``notifier.event_listeners.a.use = dotted.module`` and a's own keys under
``notifier.event_listeners.a.``.  A key under that prefix that neither the
listener nor the dispatcher reads is refused, with the closest known key
suggested: the loader learns what a listener reads by watching it read.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from notifier.delivery.events import ResourceChanged
from notifier.delivery.filters import FILTER_KEYS, EventFilter, filter_from_settings
from notifier.listeners import Listener
from notifier.settings import Section, SettingsError, as_list, load_settings, suggestion

PREFIX = "notifier.event_listeners"
BUILT_IN = (
    "notifier.listeners.log",
    "notifier.listeners.redis",
    "notifier.listeners.stream",
    "notifier.listeners.email",
)


@dataclass
class LoadedListener:
    """A listener with its INI name and the filter the dispatcher applies."""

    name: str
    listener: Listener
    event_filter: EventFilter
    wants_reads: bool = False

    def wants(self, event: ResourceChanged) -> bool:
        return self.event_filter(event)

    def __call__(self, event: ResourceChanged) -> None:
        """Deliver one event if the filter wants it: a worker's handler."""
        if self.wants(event):
            self.deliver([event])

    def deliver(self, events: Sequence[ResourceChanged]) -> None:
        deliver = getattr(self.listener, "deliver", None)
        if callable(deliver):
            deliver(events)
            return
        for event in events:
            self.listener(event)

    def close(self) -> None:
        close = getattr(self.listener, "close", None)
        if callable(close):
            close()


class WatchedSettings(dict[str, Any]):
    """The settings dict, remembering which keys were looked up."""

    def __init__(self, settings: Mapping[str, Any]) -> None:
        super().__init__(settings)
        self.looked_up: set[str] = set()

    def __getitem__(self, key: str) -> Any:
        self.looked_up.add(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.looked_up.add(key)
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            self.looked_up.add(key)
        return super().__contains__(key)


class WatchedConfig:
    """Stands for the Configurator while a listener loads; records what it reads."""

    def __init__(self, config: Any, settings: Mapping[str, Any]) -> None:
        self._config = config
        self.settings = WatchedSettings(settings)

    def get_settings(self) -> WatchedSettings:
        return self.settings

    @property
    def registry(self) -> Any:
        return getattr(self._config, "registry", None)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._config, name)


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


def _check_keys(name: str, prefix: str, settings: Mapping[str, Any], read: set[str]) -> None:
    known = {"use", *FILTER_KEYS, *(key[len(prefix) :] for key in read if key.startswith(prefix))}
    for key in sorted(settings):
        if key.startswith(prefix) and key[len(prefix) :] not in known:
            option = key[len(prefix) :]
            raise SettingsError(
                key,
                f"unknown setting for listener {name!r}{suggestion(option, known)};"
                f" known here: {', '.join(sorted(known))}",
            )


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
    watched = WatchedConfig(config, settings)
    listener = factory(watched, prefix)
    if not callable(listener):
        raise SettingsError(
            use_key,
            f"load_from_config returned {type(listener).__name__}, not a listener"
            " (a callable taking the event)",
            dotted,
        )
    _check_keys(name, prefix, settings, watched.settings.looked_up)
    chosen = filter_from_settings(Section(settings, prefix))
    own = getattr(listener, "event_filter", None)
    if isinstance(own, EventFilter):
        chosen &= own
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
