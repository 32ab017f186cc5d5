"""jq programs over objects, as KWOK runs them with gojq (pkg/utils/expression).

KWOK collects every output of the program, drops nulls, and treats a runtime error as "no
output". libjq (the `jq` package) gives the real semantics but costs ~200 µs a call, so the
selectors stages actually use are compiled to a small path evaluator here:

    PATH       := ('.' IDENT | '.'? '[' STRING ']' | '.'? '[]')+  |  '.'
    PIPELINE   := STEP ('|' STEP)*
    STEP       := PATH | 'select(' PATH '==' LITERAL ')'

Key chains (`.a.b.c`) walk the object in one loop, and the way stages read a condition,
`.status.conditions.[] | select(.type == "Ready") | .status`, runs as one loop over the list
(matching runs per object per stage: these two shapes are all the default stages use).
Anything else goes to libjq. tests/engine/test_jqexpr.py checks the fast path against libjq.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

import jq as libjq
import orjson


class JQError(ValueError):
    """A jq program that does not compile."""


class _RuntimeError(Exception):
    """A jq runtime error inside the fast path (libjq raises ValueError)."""


Step = Callable[[Any], Iterable[Any]]

_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_STRING = r'"(?:[^"\\]|\\.)*"'
_PATH_PART = re.compile(rf"\s*(?:\.({_IDENT})|\.?\[\s*({_STRING})\s*\]|\.?\[\s*\])")
_SELECT = re.compile(r"^select\s*\(\s*(.+?)\s*==\s*(.+?)\s*\)$", re.S)


class JQ:
    """A compiled jq program; `outputs(obj)` returns its non-null outputs, [] on a runtime error."""

    __slots__ = ("source", "_fast", "_program")

    def __init__(self, source: str) -> None:
        self.source = source
        try:
            self._program = libjq.compile(source)
        except ValueError as err:
            raise JQError(f"invalid jq expression {source!r}: {_first_line(err)}") from None
        self._fast = _compile_fast(source)

    @property
    def is_fast(self) -> bool:
        return self._fast is not None

    def outputs(self, obj: Any) -> list[Any]:
        if self._fast is not None:
            try:
                return [v for v in _run(self._fast, obj) if v is not None]
            except _RuntimeError:
                return []
        return self.slow_outputs(obj)

    def slow_outputs(self, obj: Any) -> list[Any]:
        """The same through libjq (tests compare both)."""
        try:
            results = self._program.input_text(orjson.dumps(obj).decode()).all()
        except ValueError:
            return []
        return [v for v in results if v is not None]


def _first_line(err: Exception) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


def _run(steps: list[Step], obj: Any) -> Iterable[Any]:
    if len(steps) == 1:
        return steps[0](obj)
    values: Iterable[Any] = (obj,)
    for step in steps:
        values = [out for value in values for out in step(value)]
    return values


def _compile_fast(source: str) -> list[Step] | None:
    parts = _split_pipes(source)
    condition = _condition_lookup(parts)
    if condition is not None:
        return [condition]
    steps: list[Step] = []
    for part in parts:
        step = _compile_path(part) or _compile_select(part)
        if step is None:
            return None
        steps.append(step)
    return steps


def _accessors(text: str) -> list[tuple[str, str | None]] | None:
    text = text.strip()
    accessors: list[tuple[str, str | None]] = []
    pos = 0
    while pos < len(text):
        match = _PATH_PART.match(text, pos)
        if match is None:
            return None
        ident, string = match.group(1), match.group(2)
        if ident is not None:
            accessors.append(("key", ident))
        elif string is not None:
            accessors.append(("key", json.loads(string)))
        else:
            accessors.append(("iter", None))
        pos = match.end()
    return accessors or None


def _condition_lookup(parts: list[str]) -> Step | None:
    """`.a.b.[] | select(.k == LITERAL) | .c` (how stages read a condition) as one loop."""
    if len(parts) != 3:
        return None
    items = _accessors(parts[0])
    select = _SELECT.match(parts[1].strip())
    result = _accessors(parts[2])
    if items is None or select is None or result is None or items[-1][0] != "iter":
        return None
    tested = _accessors(select.group(1))
    try:
        literal = json.loads(select.group(2))
    except ValueError:
        return None
    chains = [items[:-1], tested or [("iter", None)], result]
    if isinstance(literal, (dict, list)) or any(op != "key" for chain in chains for op, _ in chain):
        return None
    outer, test, field = (tuple(str(key) for _, key in chain) for chain in chains)

    def step(value: Any) -> list[Any]:
        found = _walk(value, outer)
        if isinstance(found, dict):
            entries: Iterable[Any] = found.values()
        elif isinstance(found, list):
            entries = found
        else:
            raise _RuntimeError(f"cannot iterate over {_type_name(found)}")
        return [_walk(entry, field) for entry in entries if _jq_equal(_walk(entry, test), literal)]

    return step


def _walk(value: Any, keys: tuple[str, ...]) -> Any:
    for key in keys:
        if type(value) is dict:
            value = value.get(key)
        elif value is None:
            return None
        elif isinstance(value, dict):
            value = value.get(key)
        else:
            raise _RuntimeError(f"cannot index {_type_name(value)} with {key!r}")
    return value


def _split_pipes(source: str) -> list[str]:
    # Only split on pipes outside string literals; anything subtle falls back to libjq.
    parts: list[str] = []
    current: list[str] = []
    in_string = escaped = False
    for char in source:
        if in_string:
            escaped = char == "\\" and not escaped
            in_string = not (char == '"' and not escaped)
        elif char == '"':
            in_string = True
        elif char == "|":
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    parts.append("".join(current).strip())
    return parts


def _compile_path(text: str) -> Step | None:
    text = text.strip()
    if text == ".":
        return lambda value: (value,)
    accessors = _accessors(text)
    return _path_step(accessors) if accessors else None


def _path_step(accessors: list[tuple[str, str | None]]) -> Step:
    if all(op == "key" for op, _ in accessors):
        return _key_chain(tuple(str(key) for _, key in accessors))

    def step(value: Any) -> Iterable[Any]:
        values: Iterable[Any] = (value,)
        for op, key in accessors:
            values = [out for v in values for out in (_index(v, key) if op == "key" else _iterate(v))]
        return values

    return step


def _key_chain(keys: tuple[str, ...]) -> Step:
    """`.a.b.c`: one output; null stays null; indexing anything but an object is an error."""
    return lambda value: (_walk(value, keys),)


def _index(value: Any, key: str | None) -> tuple[Any]:
    if value is None:
        return (None,)
    if isinstance(value, dict):
        return (value.get(key),)
    raise _RuntimeError(f"cannot index {_type_name(value)} with {key!r}")


def _iterate(value: Any) -> Iterable[Any]:
    if isinstance(value, dict):
        return value.values()
    if isinstance(value, list):
        return value
    raise _RuntimeError(f"cannot iterate over {_type_name(value)}")


def _compile_select(text: str) -> Step | None:
    match = _SELECT.match(text.strip())
    if match is None:
        return None
    path = _compile_path(match.group(1))
    try:
        literal = json.loads(match.group(2))
    except ValueError:
        return None
    if path is None or isinstance(literal, (dict, list)):
        return None

    def step(value: Any) -> Iterable[Any]:
        return [value for candidate in path(value) if _jq_equal(candidate, literal)]

    return step


def _jq_equal(a: Any, b: Any) -> bool:
    # jq keeps booleans apart from numbers, which Python's == does not.
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return type(a) is type(b) and bool(a == b)


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"
