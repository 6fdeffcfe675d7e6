"""Parsing of list querystrings: filters, ``_sort``, ``_limit``, ``_token``, ``_fields``.

Every bad value becomes a 400 that names the parameter and says what is
accepted, before anything touches storage.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from notifier.http.errors import invalid_parameter
from notifier.http.jsonsafe import INT_MAX, INT_MIN, MAX_INT_DIGITS, UnsafeJSON, check_strings
from notifier.storage import Filter, Op, Sort
from notifier.storage.sql import COLUMNS, FIELD_NAME

MAX_LIMIT = 10000
#: Sorting on more fields than this is refused: each one is an ORDER BY term.
MAX_SORT_FIELDS = 10
CONTROL_PARAMETERS = ("_limit", "_token", "_since", "_before", "_sort", "_fields", "_expected")
PREFIXES = {f"{op.value}_": op for op in Op}
INTEGER_FIELDS = ("last_modified",)


@dataclass
class ListQuery:
    """A parsed plural GET: what to filter, in which order, how many."""

    filters: list[Filter] = field(default_factory=list)
    sorting: list[Sort] = field(default_factory=list)
    limit: int = MAX_LIMIT
    token: dict[str, Any] | None = None
    fields: list[str] | None = None
    include_deleted: bool = False


def native_value(raw: str, name: str = "") -> Any:
    """``10`` -> 10, ``true`` -> True, ``null`` -> None, ``"10"`` -> "10", else the text.

    A number no backend compares exactly (NaN, infinities, integers past 64
    bits) is a 400 naming the parameter ``name``.
    """
    try:
        value = json.loads(raw, parse_constant=lambda constant: raw)
    except ValueError:
        return raw
    if isinstance(value, float) and math.isinf(value):
        raise invalid_parameter("querystring", name, f"{raw[:40]} is out of range for a number")
    if isinstance(value, int) and not INT_MIN <= value <= INT_MAX:
        raise invalid_parameter(
            "querystring", name, f"{raw[:40]} is out of range; integers fit in [-2^63, 2^63-1]"
        )
    return value if isinstance(value, str | int | float | bool) or value is None else raw


def _integer(name: str, raw: str, minimum: int = 0, maximum: int = INT_MAX) -> int:
    text = raw.strip('"')
    words = "an integer" if maximum == INT_MAX else f"an integer between {minimum} and {maximum}"
    try:
        value = int(text) if len(text) <= MAX_INT_DIGITS else None
    except ValueError:
        value = None
    if value is None:
        raise invalid_parameter("querystring", name, f"must be {words}, got {raw[:40]!r}")
    if not minimum <= value <= maximum:
        raise invalid_parameter(
            "querystring",
            name,
            f"must be an integer between {minimum} and {maximum}, got {raw[:40]!r}",
        )
    return value


def _field_name(name: str, field_name: str) -> str:
    if not FIELD_NAME.match(field_name):
        raise invalid_parameter(
            "querystring",
            name,
            "field names are letters, digits, '_' and '-', dotted for nested fields",
        )
    return field_name


def _filter(name: str, raw: str) -> Filter:
    prefix, _, rest = name.partition("_")
    op = PREFIXES.get(prefix + "_") if rest else None
    field_name = _field_name(name, rest if op else name)
    op = op or Op.EQ
    if op in (Op.IN, Op.EXCLUDE):
        value: Any = [native_value(part, name) for part in raw.split(",") if part != ""]
    elif op is Op.HAS:
        value = native_value(raw, name)
        if not isinstance(value, bool):
            raise invalid_parameter("querystring", name, f"must be true or false, got {raw!r}")
    elif op is Op.LIKE:
        value = raw
    else:
        value = native_value(raw, name)
    if field_name in INTEGER_FIELDS and op not in (Op.HAS, Op.LIKE):
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(each, int) and not isinstance(each, bool) for each in values):
            raise invalid_parameter("querystring", name, f"must be an integer, got {raw!r}")
    return Filter(field_name, op, value)


def _sorting(raw: str) -> list[Sort]:
    words = raw.split(",")
    if len(words) > MAX_SORT_FIELDS:
        raise invalid_parameter(
            "querystring", "_sort", f"sort on at most {MAX_SORT_FIELDS} fields, got {len(words)}"
        )
    sorting = []
    for word in words:
        word = word.strip()
        descending = word.startswith("-")
        sorting.append(Sort(_field_name("_sort", word.lstrip("-")), descending))
    return sorting


def _scalar(value: Any) -> bool:
    if isinstance(value, int) and not isinstance(value, bool):
        return INT_MIN <= value <= INT_MAX
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, str):
        try:
            check_strings(value)
        except UnsafeJSON:
            return False
        return True
    return value is None or isinstance(value, bool)


def _token_shape_ok(token: Any) -> bool:
    """A token this server gave: ``{"last_object": {field: scalar}}``."""
    if not isinstance(token, dict) or not isinstance(token.get("last_object"), dict):
        return False
    last = token["last_object"]
    return len(last) <= MAX_SORT_FIELDS + 1 and all(
        isinstance(key, str) and FIELD_NAME.match(key) and _scalar(value)
        for key, value in last.items()
    )


def decode_token(raw: str) -> dict[str, Any]:
    try:
        text = base64.urlsafe_b64decode(raw.encode() + b"===")
        token = json.loads(text, parse_constant=lambda constant: None)
    except (ValueError, binascii.Error, RecursionError):
        token = None
    if not _token_shape_ok(token):
        raise invalid_parameter(
            "querystring",
            "_token",
            "is not a pagination token this server gave; "
            "use the URL of the Next-Page header as it is",
        )
    return token


def encode_token(last_object: dict[str, Any]) -> str:
    raw = json.dumps({"last_object": last_object}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def parse_list_query(params: Mapping[str, str], default_limit: int) -> ListQuery:
    """Turn a plural GET's querystring into a ListQuery, or raise a 400."""
    query = ListQuery(limit=default_limit)
    for name, raw in params.items():
        if name == "_limit":
            query.limit = _integer(name, raw, 1, MAX_LIMIT)
        elif name == "_since":
            query.filters.append(Filter("last_modified", Op.GT, _integer(name, raw)))
            query.include_deleted = True
        elif name == "_before":
            query.filters.append(Filter("last_modified", Op.LT, _integer(name, raw)))
        elif name == "_sort":
            query.sorting = _sorting(raw)
        elif name == "_fields":
            query.fields = [_field_name(name, word.strip()) for word in raw.split(",")]
        elif name == "_token":
            query.token = decode_token(raw)
        elif name == "_expected":
            continue
        elif name.startswith("_"):
            accepted = ", ".join(CONTROL_PARAMETERS)
            raise invalid_parameter(
                "querystring", name, f"unknown parameter; accepted: {accepted} and field filters"
            )
        else:
            query.filters.append(_filter(name, raw))
    if not query.sorting:
        query.sorting = [Sort("last_modified", descending=True)]
    last = query.sorting[-1]
    if last.field not in ("last_modified", "id"):
        query.sorting.append(Sort("last_modified", last.descending))
    return query


def pagination_filters(sorting: list[Sort], last_object: dict[str, Any]) -> list[list[Filter]]:
    """The filter groups that select what comes after ``last_object`` in ``sorting`` order."""
    groups = []
    for index, sort in enumerate(sorting):
        if sort.field not in last_object and sort.field != "last_modified":
            continue
        value = last_object.get(sort.field)
        equal = [Filter(s.field, Op.EQ, last_object.get(s.field)) for s in sorting[:index]]
        if value is None:
            if not sort.descending:
                continue  # nulls come last ascending: nothing non-null follows
            groups.append([*equal, Filter(sort.field, Op.HAS, True)])
            continue
        groups.append([*equal, Filter(sort.field, Op.LT if sort.descending else Op.GT, value)])
        if not sort.descending and sort.field not in COLUMNS:
            # Nulls come last ascending, so they follow every value: the comparison misses them.
            groups.append([*equal, Filter(sort.field, Op.HAS, False)])
    return groups


def pick_fields(obj: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    """Keep ``id``, ``last_modified`` (and ``deleted``) and the named fields.

    A dotted name keeps only that nested field, as in Kinto:
    ``_fields=tags.pet`` gives ``{"tags": {"pet": ...}}``.
    """
    picked: dict[str, Any] = {
        key: obj[key] for key in ("id", "last_modified", "deleted") if key in obj
    }
    for name in fields:
        *path, last = name.split(".")
        source: Any = obj
        for part in path:
            source = source.get(part) if isinstance(source, dict) else None
        if not isinstance(source, dict) or last not in source:
            continue
        target = picked
        for part in path:
            target = target.setdefault(part, {})
        target[last] = source[last]
    return picked
