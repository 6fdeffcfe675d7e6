"""Event filters that compose with ``&``, ``|`` and ``~``.

The dispatcher builds one from a listener's filter settings (``actions``,
``resources``, ``buckets``, ``collections``, ``ids``); a listener may declare
its own as ``event_filter``, and the two are combined with ``&``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from fnmatch import fnmatchcase

from notifier.delivery.events import ACTIONS, RESOURCES, ResourceChanged
from notifier.settings import Section, SettingsError, as_list, suggestion

FILTER_KEYS = ("actions", "resources", "buckets", "collections", "ids")
DEFAULT_ACTIONS = ACTIONS  # "read" is an opt-in, as in Kinto
ALL_ACTIONS = (*ACTIONS, "read")


class EventFilter:
    """A predicate on events; combine with ``&``, ``|`` and ``~``."""

    def __init__(self, test: Callable[[ResourceChanged], bool], description: str) -> None:
        self._test = test
        self.description = description

    def __call__(self, event: ResourceChanged) -> bool:
        return self._test(event)

    def __and__(self, other: EventFilter) -> EventFilter:
        return EventFilter(
            lambda e: self(e) and other(e), f"({self.description} and {other.description})"
        )

    def __or__(self, other: EventFilter) -> EventFilter:
        return EventFilter(
            lambda e: self(e) or other(e), f"({self.description} or {other.description})"
        )

    def __invert__(self) -> EventFilter:
        return EventFilter(lambda e: not self(e), f"not {self.description}")

    def __repr__(self) -> str:
        return f"<EventFilter {self.description}>"


def everything() -> EventFilter:
    return EventFilter(lambda event: True, "any event")


def actions(*names: str) -> EventFilter:
    wanted = frozenset(names)
    return EventFilter(lambda e: e.payload["action"] in wanted, f"action in {sorted(wanted)}")


def resources(*names: str) -> EventFilter:
    wanted = frozenset(names)
    return EventFilter(
        lambda e: e.payload["resource_name"] in wanted, f"resource in {sorted(wanted)}"
    )


def _globbed(key: Callable[[ResourceChanged], str | None], label: str, patterns: Iterable[str]):
    patterns = tuple(patterns)

    def test(event: ResourceChanged) -> bool:
        value = key(event)
        return value is not None and any(fnmatchcase(value, p) for p in patterns)

    return EventFilter(test, f"{label} matches {list(patterns)}")


def buckets(*patterns: str) -> EventFilter:
    """Events inside (or about) buckets whose id matches one of the globs."""
    return _globbed(lambda e: e.payload.get("bucket_id"), "bucket", patterns)


def collections(*patterns: str) -> EventFilter:
    """Events inside (or about) collections whose id matches one of the globs."""
    return _globbed(lambda e: e.payload.get("collection_id"), "collection", patterns)


def ids(*patterns: str) -> EventFilter:
    """Events about objects whose own id matches one of the globs."""
    return _globbed(lambda e: e.payload.get(f"{e.payload['resource_name']}_id"), "id", patterns)


def _checked_words(key: str, raw: object, accepted: tuple[str, ...]) -> list[str]:
    words = as_list(raw)
    for word in words:
        if word not in accepted:
            raise SettingsError(
                key,
                f"{word!r} is not one of {', '.join(accepted)}{suggestion(word, accepted)}",
                raw,
            )
    return words


def filter_from_settings(section: Section) -> EventFilter:
    """The filter a listener's INI keys describe; every key narrows it."""
    chosen = actions(
        *_checked_words(
            section.key("actions"), section.raw("actions", " ".join(DEFAULT_ACTIONS)), ALL_ACTIONS
        )
    )
    if section.raw("resources", None) is not None:
        chosen &= resources(
            *_checked_words(section.key("resources"), section.raw("resources"), RESOURCES)
        )
    for name, make in (("buckets", buckets), ("collections", collections), ("ids", ids)):
        patterns = section.list(name, [])
        if patterns:
            chosen &= make(*patterns)
    return chosen
