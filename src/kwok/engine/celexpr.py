"""CEL expressions as KWOK evaluates them (pkg/utils/cel), on cel-python.

One `CELProgram` per expression, compiled when its Stage (or Metric) is loaded. Evaluation takes
the variables (`self`, or `node`/`pod`/`container`) as JSON-shaped dicts plus a `CELContext`
carrying the clock, the random source and, for metrics, the usage providers, so evaluation stays
pure. Results come back as plain Python values (bool, int, float, str, timedelta, Quantity).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import celpy
from celpy import celtypes
from celpy.celparser import CELParseError
from celpy.evaluation import CELEvalError

from kwok.engine.durations import parse_rfc3339, to_unix_nanos


class CELError(ValueError):
    """A CEL expression that does not compile, or that failed on one object."""


UsageFunc = Callable[..., float]


@dataclass
class CELContext:
    """What a CEL evaluation may observe besides its variables."""

    now: dt.datetime
    rand: Callable[[], float] = lambda: 0.0
    usage: UsageFunc | None = None
    cumulative_usage: UsageFunc | None = None
    started_containers_total: Callable[[str], int] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


_ENV = celpy.Environment()


class CELProgram:
    """A compiled CEL expression."""

    __slots__ = ("source", "_ast")

    def __init__(self, source: str) -> None:
        self.source = source
        try:
            self._ast = _ENV.compile(source)
        except CELParseError as err:
            raise CELError(f"invalid CEL expression {source!r}: {_one_line(err)}") from None

    def evaluate(self, variables: Mapping[str, Any], ctx: CELContext) -> Any:
        program = _ENV.program(self._ast, functions=_functions(ctx))
        activation = {name: celpy.json_to_cel(value) for name, value in variables.items()}
        try:
            result = program.evaluate(activation)
        except CELEvalError as err:
            raise CELError(f"{self.source}: {err.args[0] if err.args else err}") from None
        if isinstance(result, CELEvalError):
            raise CELError(f"{self.source}: {result.args[0] if result.args else result}")
        return to_python(result)


def _one_line(err: Exception) -> str:
    return " ".join(str(err).split())


def to_python(value: Any) -> Any:
    """cel-python values back to JSON-shaped Python values."""
    if isinstance(value, celtypes.BoolType):
        return bool(value)
    if isinstance(value, (celtypes.IntType, celtypes.UintType)):
        return int(value)
    if isinstance(value, celtypes.DoubleType):
        return float(value)
    if isinstance(value, celtypes.StringType):
        return str(value)
    if isinstance(value, celtypes.DurationType):
        return dt.timedelta(seconds=float(value.total_seconds()))
    if isinstance(value, celtypes.MapType):
        return {to_python(k): to_python(v) for k, v in value.items()}
    if isinstance(value, celtypes.ListType):
        return [to_python(v) for v in value]
    return value


def _creation_seconds(obj: Any) -> float | None:
    meta = obj.get("metadata") if isinstance(obj, Mapping) else None
    stamp = meta.get("creationTimestamp") if isinstance(meta, Mapping) else None
    if not stamp:
        return None
    return parse_rfc3339(str(stamp)) / 1e9


def _functions(ctx: CELContext) -> dict[str, Callable[..., Any]]:
    now_seconds = to_unix_nanos(ctx.now) / 1e9

    def since_second(obj: Any) -> celtypes.DoubleType:
        created = _creation_seconds(obj)
        return celtypes.DoubleType(0.0 if created is None else now_seconds - created)

    def unix_second(when: Any) -> celtypes.DoubleType:
        if isinstance(when, celtypes.TimestampType):
            return celtypes.DoubleType(when.timestamp())
        return celtypes.DoubleType(parse_rfc3339(str(when)) / 1e9)

    funcs: dict[str, Callable[..., Any]] = {
        "Now": lambda: celtypes.TimestampType(ctx.now.astimezone(dt.UTC)),
        "Rand": lambda: celtypes.DoubleType(ctx.rand()),
        "SinceSecond": since_second,
        "UnixSecond": unix_second,
    }
    funcs.update(ctx.extra)
    return funcs
