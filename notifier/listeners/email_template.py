"""Subject and body templates of the email listener, checked at start-up.

A template is a ``str.format`` string.  Its placeholders are the payload's
fields (``{user_id} {action}d {resource_name} in {bucket_id}``) and three
objects whose fields are reached with brackets: ``{object[title]}`` (the new
object, or the old one on delete), ``{new[...]}`` and ``{old[...]}``.
Attribute access (``{action.__class__}``) is refused, since a template must
not reach into Python objects.  A field that an event lacks renders empty, so
one template serves buckets, collections and records.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from notifier.delivery.events import ResourceChanged
from notifier.settings import SettingsError, suggestion

#: The payload fields an event can carry (notifier's and Kinto's keys).
PAYLOAD_FIELDS = (
    "action",
    "uri",
    "resource_name",
    "user_id",
    "timestamp",
    "event_id",
    "id",
    "bucket_id",
    "collection_id",
    "record_id",
)
OBJECT_FIELDS = ("object", "new", "old")
PLACEHOLDERS = PAYLOAD_FIELDS + OBJECT_FIELDS

#: Longest subject kept; a record field can be megabytes long.
MAX_SUBJECT = 250

_FIELD = re.compile(r"(?P<name>[^.\[\]]*)(?P<keys>(?:\[[^\]]*\])*)")
_KEY = re.compile(r"\[([^\]]*)\]")


class _TemplateFormatter(string.Formatter):
    """``str.format`` restricted to item access, and lenient about data.

    A missing field or key renders empty, and a value that does not fit its
    format spec renders with ``str``: a record is data, and bad data must not
    make a delivery fail again on every retry.
    """

    def get_field(self, field_name: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        name, keys = _split(field_name)
        value: Any = kwargs.get(name, "")
        for key in keys:
            try:
                value = value[key]
            except (LookupError, TypeError):
                return "", name
        return value, name

    def format_field(self, value: Any, format_spec: str) -> Any:
        try:
            return super().format_field(value, format_spec)
        except (ValueError, TypeError):
            return str(value)


def check_template(key: str, template: str) -> str:
    """Return ``template`` if each placeholder is one an event can have.

    Raises SettingsError naming ``key`` for a syntax error, an unknown or
    positional placeholder, attribute access, or a nested placeholder.
    """
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as error:
        raise SettingsError(key, f"invalid template: {error}", template) from None
    for _, field, spec, _ in parsed:
        if field is None:
            continue
        _check_field(key, template, field)
        if spec and ("{" in spec or "}" in spec):
            raise SettingsError(key, f"{{{field}}}: nested placeholders are not allowed", template)
    try:
        render(template, _sample_context())
    except ValueError as error:
        raise SettingsError(key, f"invalid template: {error}", template) from None
    return template


def context(event: ResourceChanged) -> dict[str, Any]:
    """The values a template sees for ``event``."""
    impacted = event.impacted_objects[0] if event.impacted_objects else {}
    new = impacted.get("new") or {}
    old = impacted.get("old") or {}
    changed = old if event.action == "delete" and old else new
    # notifier's payloads name the object as <resource>_id only; {id} is documented.
    own_id = new.get("id", changed.get("id", ""))
    return {"id": own_id, **event.payload, "new": new, "old": old, "object": changed}


def render(template: str, values: Mapping[str, Any]) -> str:
    """Fill ``template``; a missing field or key renders empty."""
    return _TemplateFormatter().vformat(template, (), values)


def header_text(text: str) -> str:
    """Make ``text`` safe as one header line: no control characters, one line.

    Line breaks and other control characters become a space, so record data
    cannot end the Subject header and start another one; invisible format
    characters (bidi overrides) are dropped.
    """
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if category in ("Cc", "Zl", "Zp"):
            kept.append(" ")
        elif category != "Cf":
            kept.append(char)
    line = " ".join("".join(kept).split())
    return line if len(line) <= MAX_SUBJECT else line[: MAX_SUBJECT - 1] + "\u2026"


def body_text(text: str) -> str:
    """Keep line breaks and tabs in a body; drop other control characters."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(char for char in text if char in "\n\t" or unicodedata.category(char) != "Cc")


def _check_field(key: str, template: str, field: str) -> None:
    match = _FIELD.fullmatch(field)
    if match is None:
        raise SettingsError(key, f"{{{field}}}: attribute access is not allowed", template)
    name = match["name"]
    if name not in PLACEHOLDERS:
        hint = suggestion(name, PLACEHOLDERS) if name else " (positional)"
        accepted = ", ".join(PLACEHOLDERS)
        problem = f"unknown placeholder {{{field}}}{hint}; accepted: {accepted}"
        raise SettingsError(key, problem, template)
    if name in PAYLOAD_FIELDS and match["keys"]:
        raise SettingsError(key, f"{{{field}}}: {name} has no fields", template)


def _split(field: str) -> tuple[str, list[str | int]]:
    """``object[tags][0]`` -> ("object", ["tags", 0]), as ``str.format`` reads it."""
    match = _FIELD.fullmatch(field)
    if match is None:
        return "", []
    keys: list[str | int] = [
        int(key) if key.isdigit() else key for key in _KEY.findall(match["keys"])
    ]
    return match["name"], keys


def _sample_context() -> dict[str, Any]:
    sample = ResourceChanged(
        payload={name: f"sample-{name}" for name in PAYLOAD_FIELDS} | {"timestamp": 0},
        impacted_objects=[{"new": {"id": "sample"}}],
    )
    return context(sample)


@dataclass(frozen=True)
class EmailTemplates:
    """The checked subject and body templates of one listener."""

    subject: str
    body: str

    def fill(self, event: ResourceChanged) -> tuple[str, str]:
        """The subject (one safe header line) and body for ``event``."""
        values = context(event)
        return header_text(render(self.subject, values)), body_text(render(self.body, values))
