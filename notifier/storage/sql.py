"""SQL text for list queries, shared by the SQL backends.

Both backends keep an object's fields in a JSON column (``data``) beside the
``id``, ``last_modified`` and ``deleted`` columns; only the expression that
reads a JSON field and the parameter placeholder differ between them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from notifier.storage import Filter, Op, Selection, Sort

COLUMNS = ("id", "last_modified")
#: The keys kept in columns of their own rather than in ``data``.
METADATA = ("id", "last_modified", "deleted")


def stored_data(obj: dict[str, Any]) -> dict[str, Any]:
    """What goes in the ``data`` column: the object without its metadata."""
    return {key: value for key, value in obj.items() if key not in METADATA}


def written_object(
    object_id: str, stamp: int, data: dict[str, Any], deleted: bool
) -> dict[str, Any]:
    """What a create, update or delete returns: the object as stored, or its tombstone."""
    if deleted:
        return {"id": object_id, "last_modified": stamp, "deleted": True}
    return {**data, "id": object_id, "last_modified": stamp}


FieldSQL = Callable[[str], str]
"""Given a dotted field name (already checked against FIELD_NAME), the SQL that reads it."""

FIELD_NAME = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")

_COMPARISONS = {Op.LT: "<", Op.GT: ">", Op.MIN: ">=", Op.MAX: "<="}


def like_pattern(value: Any) -> str:
    """Kinto's ``like_``: ``*`` is the wildcard; without one, match anywhere."""
    text = str(value).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    if "*" not in text:
        return f"%{text}%"
    return text.replace("*", "%")


class Conditions:
    """Builds WHERE clauses with the backend's placeholder and field reader."""

    def __init__(self, placeholder: str, field_sql: FieldSQL, like: str = "LIKE") -> None:
        self.placeholder = placeholder
        self.field_sql = field_sql
        self.like = like

    def expression(self, field: str) -> str:
        if field in COLUMNS:
            return field
        if not FIELD_NAME.match(field):
            raise ValueError(f"invalid field name {field!r}")
        return self.field_sql(field)

    def condition(self, flt: Filter, params: list[Any]) -> str:
        column = self.expression(flt.field)
        mark = self.placeholder
        if flt.op is Op.HAS:
            return f"({column} IS {'NOT ' if flt.value else ''}NULL)"
        if flt.op in (Op.IN, Op.EXCLUDE):
            values = list(flt.value)
            if not values:
                return "1 = 0" if flt.op is Op.IN else "1 = 1"
            params.extend(values)
            marks = ", ".join([mark] * len(values))
            if flt.op is Op.IN:
                return f"{column} IN ({marks})"
            return f"({column} IS NULL OR {column} NOT IN ({marks}))"
        if flt.op is Op.LIKE:
            params.append(like_pattern(flt.value))
            return f"CAST({column} AS TEXT) {self.like} {mark} ESCAPE '\\'"
        if flt.value is None:
            return f"{column} IS {'NOT ' if flt.op is Op.NOT else ''}NULL"
        params.append(flt.value)
        if flt.op is Op.EQ:
            return f"{column} = {mark}"
        if flt.op is Op.NOT:
            return f"({column} IS NULL OR {column} <> {mark})"
        return f"{column} {_COMPARISONS[flt.op]} {mark}"

    def where(
        self,
        filters: Sequence[Filter],
        pagination: Sequence[Sequence[Filter]],
        include_deleted: bool,
        params: list[Any],
    ) -> str:
        """AND of ``filters``, OR of the ``pagination`` groups.

        Filters on data fields let tombstones through, so a client syncing
        with ``_since`` and a field filter still learns of deletions.
        """
        clauses = []
        for flt in filters:
            clause = self.condition(flt, params)
            if include_deleted and flt.field not in COLUMNS:
                clause = f"(deleted = 1 OR {clause})"
            clauses.append(clause)
        if not include_deleted:
            clauses.append("deleted = 0")
        if pagination:
            groups = [
                "(" + " AND ".join(self.condition(flt, params) for flt in group) + ")"
                for group in pagination
            ]
            clauses.append("(" + " OR ".join(groups) + ")")
        return " AND ".join(clauses) if clauses else "1 = 1"

    def select(
        self, columns: str, resource: str, parent_id: str, selection: Selection
    ) -> tuple[str, list[Any]]:
        """The SELECT of ``columns`` for what ``selection`` picks below one parent."""
        params: list[Any] = [parent_id, resource]
        mark = self.placeholder
        where = self.where(
            selection.filters, selection.pagination, selection.include_deleted, params
        )
        sql = (
            f"SELECT {columns} FROM objects WHERE parent_id = {mark} AND resource = {mark}"
            f" AND {where} ORDER BY {self.order_by(selection.sorting)}"
        )
        if selection.limit is not None:
            sql += f" LIMIT {mark}"
            params.append(selection.limit)
        return sql, params

    def count(
        self, resource: str, parent_id: str, filters: Sequence[Filter]
    ) -> tuple[str, list[Any]]:
        """The SELECT that counts the live objects matching ``filters`` below one parent."""
        params: list[Any] = [parent_id, resource]
        mark = self.placeholder
        where = self.where(filters, (), False, params)
        sql = (
            f"SELECT count(*) FROM objects WHERE parent_id = {mark} AND resource = {mark}"
            f" AND {where}"
        )
        return sql, params

    def order_by(self, sorting: Sequence[Sort]) -> str:
        """ORDER BY with nulls last ascending and first descending, as PostgreSQL does."""
        parts = []
        for sort in sorting:
            column = self.expression(sort.field)
            direction = "DESC" if sort.descending else "ASC"
            nulls = ""
            if sort.field not in COLUMNS:
                nulls = f"{column} IS {'NOT ' if sort.descending else ''}NULL, "
            parts.append(f"{nulls}{column} {direction}")
        return ", ".join(parts) if parts else "last_modified DESC"


def object_json(object_id: str, last_modified: int, deleted: bool, data: str) -> str:
    """An object's JSON from its columns, without parsing ``data``.

    ``data`` is the stored JSON object, which never holds ``id`` or
    ``last_modified`` (the backends strip them when they store it).
    """
    head = f'{{"id":{json.dumps(object_id)},"last_modified":{int(last_modified)}'
    if deleted:
        return head + ',"deleted":true}'
    body = data.strip()
    return head + "}" if body == "{}" else f"{head},{body[1:]}"
