"""Go's value model where gotpl differs from it, for the values Stage templates see.

* KWOK decodes objects with json.Number: numbers reach templates as their literal text
  (`JSONNumber`), print as written and compare like strings (`eq .spec.replicas "3"` is true,
  `eq .spec.replicas 3` an error); functions that serialise get real numbers back.
* A missing value or nil reaches a Go `any` parameter as nil (`None` here).
* `eq`/`ne`: a missing or nil operand is unequal to anything, without an error.
* A field of nil is an error ("nil pointer evaluating interface {}.x"), and so is a field of a
  string, number or list ("can't evaluate field x in type interface {}"); gotpl yields no value
  (and would even reach Python attributes such as `.name.upper`). This one is a patch of
  gotpl's ValueAdapter.lookup, applied when this module is imported.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from gotpl.errors import TemplateExecutionError
from gotpl.runtime import sync_vm as _vm
from gotpl.runtime.values import INVALID, UNTYPED_NIL, ValueAdapter

TemplateFunc = Callable[..., Any]


class MissingArgument(ValueError):
    pass


class JSONNumber(str):
    """encoding/json.Number: KWOK hands templates numbers as their literal text, so they print
    as written and compare like strings (`eq .spec.replicas "3"`), as in KWOK."""

    __slots__ = ()


def json_numbers(value: Any) -> Any:
    """A copy of a JSON document with every number as a JSONNumber."""
    if isinstance(value, dict):
        return {k: json_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_numbers(v) for v in value]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return JSONNumber(orjson.dumps(value).decode())
    return value


def plain_numbers(value: Any) -> Any:
    """The inverse of json_numbers, for functions that serialise (toJson, YAML, Quote)."""
    if isinstance(value, JSONNumber):
        return orjson.loads(str(value))
    if isinstance(value, dict):
        return {k: plain_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain_numbers(v) for v in value]
    return value


def numbers_as_json(func: TemplateFunc) -> TemplateFunc:
    def call(*args: Any) -> Any:
        return func(*(plain_numbers(a) for a in args))

    return call


def _is_nil(value: Any) -> bool:
    return value is None or value is INVALID or value is UNTYPED_NIL


def go_eq(first: Any, *others: Any) -> bool:
    """Go's eq: a missing or nil operand compares unequal to anything (no error), unlike gotpl."""
    if not others:
        raise MissingArgument("missing argument for comparison")
    for other in others:
        if _is_nil(first) or _is_nil(other):
            if _is_nil(first) and _is_nil(other):
                return True
            continue
        if _vm._equal_pair(first, other):
            return True
    return False


def go_ne(first: Any, second: Any) -> bool:
    return not go_eq(first, second)


# Go evaluates a field on nil or on a non-map as an error ("nil pointer evaluating interface {}.x",
# "can't evaluate field x in type interface {}"); gotpl quietly yields no value, and would even
# reach Python attributes of strings (`.name.upper`). JSON scalars and lists have no fields.
_gotpl_lookup = ValueAdapter.lookup


def _go_lookup(self: ValueAdapter, value: object, field: str) -> object:
    if type(value) is dict or value is INVALID:
        return _gotpl_lookup(self, value, field)
    if value is None or value is UNTYPED_NIL:
        raise TemplateExecutionError(f"nil pointer evaluating interface {{}}.{field}")
    if isinstance(value, (str, int, float, list, tuple)):
        raise TemplateExecutionError(f"can't evaluate field {field} in type interface {{}}")
    return _gotpl_lookup(self, value, field)  # maps, and objects sprig returns (semver, ...)


ValueAdapter.lookup = _go_lookup  # type: ignore[method-assign]


def go_value(value: Any) -> Any:
    """What a Go function parameter of type `any` receives for gotpl's sentinels."""
    if value is INVALID or value is UNTYPED_NIL:
        return None
    return value


def go_function(func: TemplateFunc) -> TemplateFunc:
    """Wrap a Python function so it sees missing values as None, like a Go `any` parameter."""

    def call(*args: Any) -> Any:
        return func(*(go_value(a) for a in args))

    call.__name__ = getattr(func, "__name__", "func")
    return call
