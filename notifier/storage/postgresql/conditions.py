"""WHERE and ORDER BY on JSONB fields that compare as SQLite's ``json_extract`` does.

SQLite turns a JSON field into an SQL value (JSON null into NULL, true into
1) and orders NULL < numbers < text, text bytewise.  JSONB orders its types
otherwise (strings below numbers) and strings by the database collation, so
each JSON field is compared here through a typed key: ``(kind, number)``
against a number, ``(kind, text COLLATE "C")`` against a string, where kind
is 1 for numbers and booleans and 2 for strings, objects and arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from notifier.storage import Filter, Op, Sort
from notifier.storage.sql import COLUMNS, Conditions, like_pattern

_OPERATORS = {Op.EQ: "=", Op.NOT: "<>", Op.LT: "<", Op.GT: ">", Op.MIN: ">=", Op.MAX: "<="}


def field(name: str) -> str:
    """The JSONB value of a dotted field, JSON null read as SQL NULL."""
    path = ",".join(name.split("."))
    return f"NULLIF(data #> '{{{path}}}', 'null'::jsonb)"


def kind(value: str) -> str:
    return (
        f"CASE jsonb_typeof({value}) WHEN 'number' THEN 1 WHEN 'boolean' THEN 1"
        " WHEN 'string' THEN 2 WHEN 'object' THEN 2 WHEN 'array' THEN 2 END"
    )


def number(value: str) -> str:
    return (
        f"CASE jsonb_typeof({value}) WHEN 'number' THEN ({value})::numeric"
        f" WHEN 'boolean' THEN ({value})::boolean::int::numeric END"
    )


def text(value: str) -> str:
    return (
        f"(CASE jsonb_typeof({value}) WHEN 'string' THEN {value} #>> '{{}}'"
        f" WHEN 'object' THEN ({value})::text WHEN 'array' THEN ({value})::text END)"
        ' COLLATE "C"'
    )


def as_text(value: str) -> str:
    """The text LIKE sees: SQLite casts true to '1' and numbers to their digits."""
    return (
        f"CASE jsonb_typeof({value}) WHEN 'boolean' THEN ({value})::boolean::int::text"
        f" ELSE {value} #>> '{{}}' END"
    )


class JSONBConditions(Conditions):
    """``Conditions`` for a ``data JSONB`` column and psycopg's ``%s`` placeholders."""

    def __init__(self) -> None:
        super().__init__("%s", field, like="ILIKE")

    def compare(self, column: str, operator: str, value: Any, params: list[Any]) -> str:
        """``column <operator> value`` on typed keys; NULL when ``value`` is None."""
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            value = int(value)
        if isinstance(value, int | float):
            params.append(value)
            return f"({kind(column)}, {number(column)}) {operator} (1, %s::numeric)"
        params.append(value if isinstance(value, str) else str(value))
        return f"({kind(column)}, {text(column)}) {operator} (2, %s::text)"

    def condition(self, flt: Filter, params: list[Any]) -> str:
        if flt.field == "id":
            return super().condition(_textual(flt), params)
        if flt.field in COLUMNS or flt.op is Op.HAS:
            return super().condition(flt, params)
        column = self.expression(flt.field)
        if flt.op is Op.LIKE:
            params.append(like_pattern(flt.value))
            return f"({as_text(column)}) ILIKE %s ESCAPE '\\'"
        if flt.op in (Op.IN, Op.EXCLUDE):
            terms = [self.compare(column, "=", value, params) for value in flt.value]
            if not terms:
                return "1 = 0" if flt.op is Op.IN else "1 = 1"
            matched = "(" + " OR ".join(terms) + ")"
            return matched if flt.op is Op.IN else f"({column} IS NULL OR NOT {matched})"
        if flt.value is None:
            return super().condition(flt, params)
        clause = self.compare(column, _OPERATORS[flt.op], flt.value, params)
        return f"({column} IS NULL OR {clause})" if flt.op is Op.NOT else clause

    def order_by(self, sorting: Sequence[Sort]) -> str:
        parts = []
        for sort in sorting:
            if sort.field in COLUMNS:
                parts.append(super().order_by([sort]))
                continue
            column = self.expression(sort.field)
            direction = "DESC" if sort.descending else "ASC"
            nulls = f"{column} IS {'NOT ' if sort.descending else ''}NULL"
            keys = (kind(column), number(column), text(column))
            parts.append(", ".join([nulls, *(f"{key} {direction}" for key in keys)]))
        return ", ".join(parts) if parts else super().order_by(())


def _textual(flt: Filter) -> Filter:
    """Ids are text: compare ``?id=5`` as '5', as SQLite's TEXT column affinity does."""

    def as_id(value: Any) -> Any:
        if value is None or isinstance(value, str):
            return value
        return str(int(value)) if isinstance(value, bool) else str(value)

    if isinstance(flt.value, list):
        return Filter(flt.field, flt.op, [as_id(value) for value in flt.value])
    return Filter(flt.field, flt.op, as_id(flt.value))
