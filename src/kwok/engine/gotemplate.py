"""Go `text/template` for Stage templates, compiled once and rendered many times.

The parser and evaluator are the pinned `gotpl` package; this module owns what KWOK needs on top of
it, and the behaviour our tests pin down (tests/engine/test_gotemplate*.py):

* errors worded as Go words them (`template: NAME:LINE: msg` when parsing,
  `template: NAME:LINE:COL: executing "NAME" ...` when executing), raised as `TemplateError`;
* the function map fixed at compile time (an unknown function is a parse error, as in Go), while
  the functions that depend on the environment (NodeIP, PodIPWith, Now, ...) are looked up per
  render in a context variable, so one compiled template serves every controller and every call;
* values passed to Python functions normalised: a missing value or nil becomes `None`.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import gotpl
import orjson
from gotpl.errors import TemplateExecutionError, TemplateSyntaxError
from gotpl.funcs.sprig import text_func_map
from gotpl.runtime import sync_vm as _vm
from gotpl.runtime.values import INVALID, UNTYPED_NIL, ValueAdapter

TemplateFunc = Callable[..., Any]


class TemplateError(ValueError):
    """A template that does not parse, or that failed while executing on one object."""


_ACTIVE: contextvars.ContextVar[Mapping[str, TemplateFunc]] = contextvars.ContextVar("kwok_template_funcs")

_SYNTAX_PREFIX = re.compile(r"^template:(\d+):(\d+): ")
# gotpl wording -> Go's text/template wording
_GO_WORDING = (
    (r"function '([^']+)' not defined", r'function "\1" not defined'),
    (r"undefined variable '([^']+)'", r'undefined variable "\1"'),
    (r"^unexpected (end|else)$", r"unexpected {{\1}}"),
    (r"template '([^']+)' is not defined", r'template "\1" not defined'),
)
_EXEC_POSITION = re.compile(r"^(template: .+?:\d+):(\d+): executing")
_GOTPL_FUNC_FAILED = re.compile(r"function '([^']+)' failed: ")


def _go_value(value: Any) -> Any:
    """What a Go function parameter of type `any` receives for gotpl's sentinels."""
    if value is INVALID or value is UNTYPED_NIL:
        return None
    return value


def go_function(func: TemplateFunc) -> TemplateFunc:
    """Wrap a Python function so it sees missing values as None, like a Go `any` parameter."""

    def call(*args: Any) -> Any:
        return func(*(_go_value(a) for a in args))

    call.__name__ = getattr(func, "__name__", "func")
    return call


def _dynamic(name: str) -> TemplateFunc:
    """A function resolved at render time from the functions the caller passed in."""

    def call(*args: Any) -> Any:
        funcs = _ACTIVE.get(None)
        impl = funcs.get(name) if funcs is not None else None
        if impl is None:
            raise TemplateError(f"function {name!r} is not available here")
        return impl(*(_go_value(a) for a in args))

    call.__name__ = name
    return call


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


def _numbers_as_json(func: TemplateFunc) -> TemplateFunc:
    def call(*args: Any) -> Any:
        return func(*(plain_numbers(a) for a in args))

    return call


def _is_nil(value: Any) -> bool:
    return value is None or value is INVALID or value is UNTYPED_NIL


def go_eq(first: Any, *others: Any) -> bool:
    """Go's eq: a missing or nil operand compares unequal to anything (no error), unlike gotpl."""
    if not others:
        raise TemplateError("missing argument for comparison")
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

_OVERRIDES: dict[str, TemplateFunc] = {"eq": go_eq, "ne": go_ne}

_SPRIG: dict[str, TemplateFunc] | None = None


def _render_clock() -> dt.datetime:
    """sprig's clock (date, ago, ...) is the caller's `now`, never the wall clock."""
    now = (_ACTIVE.get(None) or {}).get("now")
    if now is None:
        raise TemplateError("no clock: pass a `now` function to render()")
    value = now()
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))


def _no_network(name: Any, *args: Any) -> str:
    raise TemplateError(f"getHostByName {name!r}: templates may not use the network here")


def sprig_functions() -> dict[str, TemplateFunc]:
    """Sprig's text function map (built once: it is large), with its clock bound to the caller's
    `now` and without DNS lookups (the engine does no I/O)."""
    global _SPRIG
    if _SPRIG is None:
        _SPRIG = text_func_map(clock=_render_clock)
        _SPRIG["getHostByName"] = _no_network
        for name in (
            "toJson",
            "toPrettyJson",
            "toRawJson",
            "mustToJson",
            "mustToPrettyJson",
            "mustToRawJson",
        ):
            if name in _SPRIG:
                _SPRIG[name] = _numbers_as_json(_SPRIG[name])
    return dict(_SPRIG)


class FunctionMap:
    """The functions a family of templates may call: static ones plus names bound per render."""

    def __init__(self, static: Mapping[str, TemplateFunc], dynamic: Iterable[str]) -> None:
        self.dynamic = frozenset(dynamic)
        funcs = sprig_functions()
        funcs.update(_OVERRIDES)
        funcs.update({name: go_function(f) for name, f in static.items()})
        funcs.update({name: _dynamic(name) for name in self.dynamic})
        self.functions: Mapping[str, TemplateFunc] = funcs

    def __contains__(self, name: str) -> bool:
        return name in self.functions


class GoTemplate:
    """One parsed template. `render(data, funcs)` runs it; `funcs` binds the dynamic functions."""

    __slots__ = ("name", "source", "_template")

    def __init__(self, source: str, name: str, functions: FunctionMap) -> None:
        self.name = name
        self.source = source
        try:
            self._template = gotpl.Template(source, name=name, functions=functions.functions)
        except TemplateSyntaxError as err:
            raise TemplateError(_syntax_message(name, source, err)) from None

    def render(self, data: Any, funcs: Mapping[str, TemplateFunc] | None = None) -> str:
        token = _ACTIVE.set(funcs or {})
        try:
            return self._template.render(data)
        except TemplateExecutionError as err:
            raise TemplateError(_execution_message(str(err))) from None
        finally:
            _ACTIVE.reset(token)


_CONTROL = re.compile(r"\{\{-?\s*(if|with|range)\b")


def _syntax_message(name: str, source: str, err: TemplateSyntaxError) -> str:
    """Go reports parse errors as `template: NAME:LINE: msg` (no column)."""
    message = _SYNTAX_PREFIX.sub("", str(err))
    if message == "missing value for command":
        # Go names the control keyword whose pipeline is empty.
        opened = [m for m in _CONTROL.finditer(source) if m.start() <= err.position]
        if opened and "}}" not in source[opened[-1].end() : err.position]:
            message = f"missing value for {opened[-1].group(1)}"
    for pattern, replacement in _GO_WORDING:
        message = re.sub(pattern, replacement, message)
    return f"template: {name}:{err.line}: {message}"


def _execution_message(message: str) -> str:
    """Go words a failed function call `error calling NAME: cause`."""
    message = _GOTPL_FUNC_FAILED.sub(lambda m: f"error calling {m.group(1)}: ", message)
    # Go counts the column from 0 (the byte offset in the line); gotpl from 1.
    message = _EXEC_POSITION.sub(lambda m: f"{m.group(1)}:{int(m.group(2)) - 1}: executing", message, count=1)
    for pattern, replacement in _GO_WORDING[3:]:
        message = re.sub(pattern, replacement, message)
    return message
