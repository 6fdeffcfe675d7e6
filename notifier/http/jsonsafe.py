"""JSON that every backend can store and every reader can walk: the edge's checks.

Python's parser takes ``NaN``, ``Infinity``, ``1e400`` (a float infinity),
integers of any size and lone surrogates (``"\\ud800"``); PostgreSQL's jsonb
refuses NUL and lone surrogates, SQLite's JSON functions fail on NaN and on
integers past 64 bits, and deep nesting exhausts recursion in ``copy`` and
``json``.  So a body is checked once, where it is read, and so is every value
the server builds from a client's instructions (a patch result).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from typing import Any

#: The integers every backend stores and compares exactly (SQLite's 64-bit range).
INT_MIN = -(2**63)
INT_MAX = 2**63 - 1
#: Digits past which an integer literal cannot be in range, checked before ``int()``.
MAX_INT_DIGITS = 20

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = bytes.maketrans(b"[{]}", b"(())")
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))


class UnsafeJSON(ValueError):
    """A JSON text or value that is not plain, storable JSON; the message says why."""


def nesting_depth(raw: bytes) -> int:
    """How deeply arrays and objects nest in ``raw``, counted without parsing it."""
    skeleton = _STRING.sub(b"", raw).translate(_BRACKETS, _NOT_BRACKETS)
    depth = deepest = 0
    for char in skeleton:
        if char == 0x28:  # "(" : an opening bracket of either kind
            depth += 1
            deepest = max(deepest, depth)
        elif char == 0x29:
            depth -= 1
    return deepest


def _refuse_constant(name: str) -> Any:
    raise UnsafeJSON(f"{name} is not a JSON number; send a finite number or null")


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS or not INT_MIN <= int(text) <= INT_MAX:
        raise UnsafeJSON(f"the integer {text[:40]} is out of range [-2^63, 2^63-1]")
    return int(text)


def _parse_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise UnsafeJSON(f"the number {text[:40]} is out of range for a double")
    return value


def loads(raw: bytes, max_depth: int) -> Any:
    """Parse ``raw`` as strict UTF-8 JSON of at most ``max_depth`` levels, storable as is.

    Raises ``UnsafeJSON`` for what is JSON but not storable, ``ValueError`` for
    what is not JSON at all.
    """
    depth = nesting_depth(raw) if (b"[" in raw or b"{" in raw) else 0
    if depth > max_depth:
        raise UnsafeJSON(f"the JSON nests {depth} levels deep; the limit is {max_depth}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UnsafeJSON(f"the body is not UTF-8 (byte {error.start})") from None
    value = json.loads(
        text, parse_constant=_refuse_constant, parse_int=_parse_int, parse_float=_parse_float
    )
    if "\\" in text:  # NUL and lone surrogates can only come in as escapes
        check_strings(value)
    return value


def _strings(value: Any) -> Iterator[str]:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def check_strings(value: Any) -> None:
    """Refuse NUL and lone surrogates, which PostgreSQL cannot store, on every backend."""
    for text in _strings(value):
        if "\x00" in text:
            raise UnsafeJSON("strings cannot contain the NUL character \\u0000")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise UnsafeJSON(
                "strings cannot contain a lone surrogate (\\ud800 to \\udfff unpaired)"
            ) from None


def value_depth(value: Any) -> int:
    """How deeply arrays and objects nest in a parsed value (a scalar is 0)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in children)
    return deepest


def encoded_size(value: Any) -> int:
    """The bytes of ``value`` as compact JSON (what storage keeps)."""
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
