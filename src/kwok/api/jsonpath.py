r"""The JSONPath dialect of client-go's `util/jsonpath`, as CRD `additionalPrinterColumns` use it.

The API server evaluates each printer column's `jsonPath` against the stored object with
missing keys allowed, takes the first result, and formats it by the column's type. This module
parses and evaluates the path; tables.py does the formatting.

Supported (the subset real CRDs and `kubectl get -o custom-columns` use):
    .a.b  ['a']  ["a.b"]          fields (a field of a list yields nothing, as in client-go)
    [0]  [-1]  [1:3]  [::2]  [*]  .*  list indexes, slices, wildcards (maps: values by sorted key)
    ..name                        recursive descent
    .a\.b                         a key with a dot in it (client-go drops the backslashes)
    [?(@.type=="Ready")]          filters: == != < > <= >= and bare existence `[?(@.x)]`
    {.a.b}  $.a.b                 an optional template brace / root marker around the path

PUBLIC NAMES:

    compile_path(expr: str) -> JSONPath        # raises JSONPathError for a malformed path
    JSONPath.find(obj) -> list[Any]            # every match, in client-go's order
    find(expr: str, obj) -> list[Any]          # compile (cached) + find
    print_value(value) -> str                  # client-go's PrintResults text for one value
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson


class JSONPathError(ValueError):
    """A path that client-go's parser would reject."""


Step = Callable[[list[Any]], list[Any]]

# a field name runs to the next terminator; `\.` escapes a dot (`.metadata.labels.app\.kubernetes\.io/name`)
_NAME = re.compile(r"(?:\\.|[^.\[\]\s(),=!<>{}$@\\])+")
_ESCAPE = re.compile(r"\\(.)")
_MISSING = object()


@dataclass(frozen=True)
class JSONPath:
    expression: str
    steps: tuple[Step, ...]

    def find(self, obj: Any) -> list[Any]:
        values = [obj]
        for step in self.steps:
            values = step(values)
            if not values:
                break
        return values


def find(expression: str, obj: Any) -> list[Any]:
    return compile_path(expression).find(obj)


@functools.lru_cache(maxsize=1024)
def compile_path(expression: str) -> JSONPath:
    text = expression.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1].strip()
    if text.startswith("$"):
        text = text[1:]
    steps, rest = _parse_steps(text)
    if rest:
        raise JSONPathError(f"unrecognized character in action: {rest[0]!r} in {expression!r}")
    return JSONPath(expression, tuple(steps))


# --- parsing -------------------------------------------------------------------------------------


def _parse_steps(text: str) -> tuple[list[Step], str]:
    """Parse steps until the text ends or something that is not a step starts (for filters)."""
    steps: list[Step] = []
    while text:
        if text.startswith(".."):
            steps.append(_recursive)
            text = text[2:]
            if text.startswith("["):
                continue
            step, text = _parse_name(text)
            steps.append(step)
        elif text.startswith("."):
            step, text = _parse_name(text[1:])
            steps.append(step)
        elif text.startswith("["):
            step, text = _parse_bracket(text)
            steps.append(step)
        else:
            break
    return steps, text


def _parse_name(text: str) -> tuple[Step, str]:
    if text.startswith("*"):
        return _wildcard, text[1:]
    match = _NAME.match(text)
    if not match:
        if not text or text[0] in ".[":
            return _identity, text  # `.` alone (e.g. `{.}`) is the current object
        raise JSONPathError(f"invalid field name in {text!r}")
    return _field(_ESCAPE.sub(r"\1", match.group())), text[match.end():]


def _parse_bracket(text: str) -> tuple[Step, str]:
    if text.startswith("[?("):
        return _parse_filter(text)
    end = _closing_bracket(text)
    inner, rest = text[1:end].strip(), text[end + 1:]
    if inner == "*":
        return _wildcard, rest
    if inner[:1] in "'\"":
        return _field(_unquote(inner)), rest
    if ":" in inner:
        return _slice(*_slice_bounds(inner)), rest
    try:
        return _index(int(inner)), rest
    except ValueError:
        raise JSONPathError(f"invalid array index {inner!r}") from None


def _closing_bracket(text: str) -> int:
    quote = ""
    for position, char in enumerate(text):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "]":
            return position
    raise JSONPathError(f"unclosed array expect ] in {text!r}")


def _unquote(text: str) -> str:
    if len(text) < 2 or text[-1] != text[0]:
        raise JSONPathError(f"unterminated string {text!r}")
    return text[1:-1]


def _slice_bounds(inner: str) -> tuple[int | None, int | None, int]:
    parts = [part.strip() for part in inner.split(":")]
    if len(parts) > 3:
        raise JSONPathError(f"invalid array slice {inner!r}")
    try:
        numbers = [int(part) if part else None for part in parts]
    except ValueError:
        raise JSONPathError(f"invalid array slice {inner!r}") from None
    step = numbers[2] if len(numbers) == 3 and numbers[2] is not None else 1
    if step == 0:
        raise JSONPathError("step cannot be zero")
    return numbers[0], numbers[1], step


_OPERATORS = ("==", "!=", "<=", ">=", "<", ">")


def _parse_filter(text: str) -> tuple[Step, str]:
    body = text[3:]
    left_text, body = _filter_operand(body)
    body = body.lstrip()
    for operator in _OPERATORS:
        if body.startswith(operator):
            right_text, body = _filter_operand(body[len(operator):].lstrip())
            break
    else:
        operator, right_text = "exists", ""
    body = body.lstrip()
    if not body.startswith(")]"):
        raise JSONPathError(f"unclosed filter in {text!r}")
    left = _operand(left_text)
    right = _operand(right_text) if right_text else None
    return _filter(left, operator, right), body[2:]


def _filter_operand(text: str) -> tuple[str, str]:
    if text[:1] in "'\"":
        end = text.find(text[0], 1)
        if end < 0:
            raise JSONPathError(f"unterminated string in filter {text!r}")
        return text[: end + 1], text[end + 1:]
    match = re.match(r"[^\s=!<>)]+", text)
    if not match:
        raise JSONPathError(f"invalid filter operand in {text!r}")
    return match.group(), text[match.end():]


Operand = Callable[[Any], list[Any]]


def _operand(text: str) -> Operand:
    if text[:1] in "'\"":
        literal: Any = _unquote(text)
        return lambda _item: [literal]
    if text[:1] in "@$":
        steps, rest = _parse_steps(text[1:])
        if rest:
            raise JSONPathError(f"invalid filter path {text!r}")
        path = JSONPath(text, tuple(steps))
        return path.find
    number = _number(text)
    return lambda _item: [number]


def _number(text: str) -> Any:
    if text in ("true", "false"):
        return text == "true"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise JSONPathError(f"unrecognized filter operand {text!r}") from None


# --- evaluation ----------------------------------------------------------------------------------


def _identity(values: list[Any]) -> list[Any]:
    return values


def _field(name: str) -> Step:
    def step(values: list[Any]) -> list[Any]:
        found = (value.get(name, _MISSING) for value in values if isinstance(value, dict))
        return [value for value in found if value is not _MISSING]

    return step


def _children(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for key in sorted(value):
            yield value[key]
    elif isinstance(value, list):
        yield from value


def _wildcard(values: list[Any]) -> list[Any]:
    return [child for value in values for child in _children(value)]


def _recursive(values: list[Any]) -> list[Any]:
    result: list[Any] = []
    for value in values:
        children = list(_children(value))
        if children:
            result.append(value)
            result.extend(_recursive(children))
    return result


def _index(position: int) -> Step:
    def step(values: list[Any]) -> list[Any]:
        found = []
        for value in values:
            if isinstance(value, list) and -len(value) <= position < len(value):
                found.append(value[position])
        return found

    return step


def _slice(start: int | None, stop: int | None, stride: int) -> Step:
    def step(values: list[Any]) -> list[Any]:
        return [item for value in values if isinstance(value, list) for item in value[start:stop:stride]]

    return step


def _filter(left: Operand, operator: str, right: Operand | None) -> Step:
    def keep(item: Any) -> bool:
        lefts = left(item)
        if operator == "exists":
            return bool(lefts)
        rights = right(item) if right else []
        if len(lefts) != 1 or len(rights) != 1:
            return False
        return _compare(lefts[0], operator, rights[0])

    def step(values: list[Any]) -> list[Any]:
        return [item for value in values if isinstance(value, list) for item in value if keep(item)]

    return step


def _compare(left: Any, operator: str, right: Any) -> bool:
    if operator in ("==", "!="):
        equal = left == right and (type(left) is bool) == (type(right) is bool)
        return equal if operator == "==" else not equal
    numbers = (int, float)
    comparable = (isinstance(left, numbers) and isinstance(right, numbers)) or (
        isinstance(left, str) and isinstance(right, str))
    if not comparable:
        return False
    if operator == "<":
        return bool(left < right)
    if operator == ">":
        return bool(left > right)
    if operator == "<=":
        return bool(left <= right)
    return bool(left >= right)


# --- printing ------------------------------------------------------------------------------------


def print_value(value: Any) -> str:
    """The text client-go's `PrintResults` writes for one result.

    Maps and lists print as JSON (Go sorts map keys); scalars print as Go's `fmt.Sprint` would.
    """
    if isinstance(value, dict | list):
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return go_float(value)
    return str(value)


def go_float(value: float) -> str:
    """Go's `%v` for a float64: the shortest digits, in exponent form below 1e-4 or from 1e6 up."""
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    if value == 0:
        return "0"
    sign, digit_tuple, exponent = Decimal(repr(value)).normalize().as_tuple()
    digits = "".join(map(str, digit_tuple))
    point = len(digits) + int(exponent)  # digits before the decimal point
    prefix = "-" if sign else ""
    power = point - 1
    if power < -4 or power >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{prefix}{mantissa}e{'-' if power < 0 else '+'}{abs(power):02d}"
    if point <= 0:
        return f"{prefix}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return prefix + digits + "0" * (point - len(digits))
    return f"{prefix}{digits[:point]}.{digits[point:]}"
