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
from collections.abc import Iterable, Mapping
from typing import Any

import gotpl
from gotpl.errors import TemplateExecutionError, TemplateSyntaxError
from gotpl.funcs.sprig import text_func_map

from kwok.engine.govalues import (
    JSONNumber,
    TemplateFunc,
    go_eq,
    go_function,
    go_ne,
    go_value,
    json_numbers,
    numbers_as_json,
    plain_numbers,
)

__all__ = [
    "FunctionMap",
    "GoTemplate",
    "JSONNumber",
    "TemplateError",
    "TemplateFunc",
    "json_numbers",
    "plain_numbers",
]


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
    (r"cannot index value of type _InvalidValue", "index of untyped nil"),
)
_EXEC_POSITION = re.compile(r"^(template: .+?:\d+):(\d+): executing")
_GOTPL_FUNC_FAILED = re.compile(r"function '([^']+)' failed: ")


def _dynamic(name: str) -> TemplateFunc:
    """A function resolved at render time from the functions the caller passed in."""

    def call(*args: Any) -> Any:
        funcs = _ACTIVE.get(None)
        impl = funcs.get(name) if funcs is not None else None
        if impl is None:
            raise TemplateError(f"function {name!r} is not available here")
        return impl(*(go_value(a) for a in args))

    call.__name__ = name
    return call


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
                _SPRIG[name] = numbers_as_json(_SPRIG[name])
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
            raise TemplateError(_execution_message(str(err), _node_text(self.source, err.position))) from None
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


def _node_text(source: str, position: int | None) -> str | None:
    """The command that failed, as Go shows it in `at <...>`; None when it cannot be told."""
    if position is None:
        return None
    rest = source.encode()[position:].decode(errors="replace")
    end = rest.find("}}")
    text = (rest if end < 0 else rest[:end]).rstrip().removesuffix("-").rstrip()
    if not text or "|" in text or "\n" in text or text.startswith("{{"):
        return None  # a pipeline: gotpl does not say which command failed
    return text if '"' in text or "`" in text else " ".join(text.split())


def _execution_message(message: str, node: str | None = None) -> str:
    """Go words a failed function call `error calling NAME: cause`, after `at <NODE>`."""
    message = _GOTPL_FUNC_FAILED.sub(lambda m: f"error calling {m.group(1)}: ", message)
    if node is not None:
        message = re.sub(
            r'^(template: .+? executing "[^"]*"): ', lambda m: f"{m.group(1)} at <{node}>: ", message, count=1
        )
    # Go counts the column from 0 (the byte offset in the line); gotpl from 1.
    message = _EXEC_POSITION.sub(lambda m: f"{m.group(1)}:{int(m.group(2)) - 1}: executing", message, count=1)
    for pattern, replacement in _GO_WORDING[3:]:
        message = re.sub(pattern, replacement, message)
    return message
