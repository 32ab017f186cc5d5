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
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import gotpl
from gotpl.errors import TemplateExecutionError, TemplateSyntaxError
from gotpl.funcs.sprig import text_func_map
from gotpl.runtime import INVALID, UNTYPED_NIL

TemplateFunc = Callable[..., Any]


class TemplateError(ValueError):
    """A template that does not parse, or that failed while executing on one object."""


_ACTIVE: contextvars.ContextVar[Mapping[str, TemplateFunc]] = contextvars.ContextVar("kwok_template_funcs")

_SYNTAX_PREFIX = re.compile(r"^template:(\d+):(\d+): ")
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


_SPRIG: dict[str, TemplateFunc] | None = None


def sprig_functions() -> dict[str, TemplateFunc]:
    """Sprig's text function map (built once: it is large)."""
    global _SPRIG
    if _SPRIG is None:
        _SPRIG = text_func_map()
    return dict(_SPRIG)


class FunctionMap:
    """The functions a family of templates may call: static ones plus names bound per render."""

    def __init__(self, static: Mapping[str, TemplateFunc], dynamic: Iterable[str]) -> None:
        self.dynamic = frozenset(dynamic)
        funcs = sprig_functions()
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
            raise TemplateError(_syntax_message(name, err)) from None

    def render(self, data: Any, funcs: Mapping[str, TemplateFunc] | None = None) -> str:
        token = _ACTIVE.set(funcs or {})
        try:
            return self._template.render(data)
        except TemplateExecutionError as err:
            raise TemplateError(_execution_message(str(err))) from None
        finally:
            _ACTIVE.reset(token)


def _syntax_message(name: str, err: TemplateSyntaxError) -> str:
    """Go reports parse errors as `template: NAME:LINE: msg` (no column)."""
    message = _SYNTAX_PREFIX.sub("", str(err))
    message = re.sub(r"function '([^']+)' not defined", r'function "\1" not defined', message)
    return f"template: {name}:{err.line}: {message}"


def _execution_message(message: str) -> str:
    """Go words a failed function call `error calling NAME: cause`."""
    return _GOTPL_FUNC_FAILED.sub(lambda m: f"error calling {m.group(1)}: ", message)
