"""CEL expressions as KWOK evaluates them (pkg/utils/cel), on cel-python.

One `CELProgram` per expression, compiled when its Stage (or Metric) is loaded. Evaluation takes
the variables (`self`, or `node`/`pod`/`container`) as JSON-shaped dicts plus a `CELContext`
carrying the clock, the random source and, for metrics, the usage providers, so evaluation stays
pure. Results come back as plain Python values (bool, int, float, str, timedelta, Quantity).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import celpy

# celpy (with lark, pendulum and re2: ~15 MB and ~50 ms) is imported where first used: most
# clusters never evaluate a CEL expression, and kwok's idle memory counts.


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
    # KWOK's node and pod controllers see typed Node/Pod objects; its stage tests (and the generic
    # controllers) see unstructured maps: no zero values in CEL, and jq yields integers.
    unstructured: bool = False


@functools.cache
def _env() -> celpy.Environment:
    # Building the CEL parser takes ~0.1 s: only when the first expression is compiled.
    import celpy

    return celpy.Environment()


def environment() -> celpy.Environment:
    """The shared CEL environment (one parser for KWOK's stages and the API server's admission)."""
    return _env()


class CELProgram:
    """A compiled CEL expression."""

    __slots__ = ("source", "_ast")

    def __init__(self, source: str) -> None:
        from celpy.celparser import CELParseError

        self.source = source
        try:
            self._ast = _env().compile(source)
        except CELParseError as err:
            where = f"{err.line}:{err.column}" if getattr(err, "line", None) else "?"
            raise CELError(f"invalid CEL expression {source!r}: syntax error at {where}") from None

    def evaluate(
        self, variables: Mapping[str, Any], ctx: CELContext, typed: Mapping[str, str] | None = None
    ) -> Any:
        """Evaluate; variables named node/pod/container (and any listed in `typed`, variable ->
        kind) are typed Kubernetes objects, others plain JSON maps."""
        from celpy.evaluation import CELEvalError

        from kwok.engine.celfuncs import context_functions

        program = _env().program(self._ast, functions=context_functions(ctx))
        activation = {name: _cel_value(name, value, typed) for name, value in variables.items()}
        try:
            result = program.evaluate(activation)
        except CELEvalError as err:
            raise CELError(f"{self.source}: {err.args[0] if err.args else err}") from None
        except (KeyError, TypeError, ValueError, ArithmeticError) as err:  # raised inside a function
            raise CELError(f"{self.source}: {type(err).__name__}: {err}") from None
        if isinstance(result, CELEvalError):
            raise CELError(f"{self.source}: {result.args[0] if result.args else result}")
        return to_python(result)


TYPED_VARIABLES = {"node": "Node", "pod": "Pod", "container": "Container"}


_CONVERTED: OrderedDict[tuple[str, str, str], Any] = OrderedDict()
_CONVERTED_SIZE = 1024


def _cel_value(name: str, value: Any, typed: Mapping[str, str] | None) -> Any:
    kind = (typed or {}).get(name) or TYPED_VARIABLES.get(name)
    key = _revision(kind, value)
    if key is not None and key in _CONVERTED:
        return _CONVERTED[key]
    converted = _convert(kind, value)
    if key is not None:
        # A scrape evaluates many expressions over the same pods: convert each revision once.
        _CONVERTED[key] = converted
        if len(_CONVERTED) > _CONVERTED_SIZE:
            _CONVERTED.popitem(last=False)
    return converted


def _convert(kind: str | None, value: Any) -> Any:
    from celpy.adapter import json_to_cel

    from kwok.engine.celtyped import message_for_kind, to_typed

    message = message_for_kind(kind) if kind else None
    return to_typed(value, message) if message is not None else json_to_cel(value)


def _revision(kind: str | None, value: Any) -> tuple[str, str, str] | None:
    meta = value.get("metadata") if isinstance(value, Mapping) else None
    if not kind or not isinstance(meta, Mapping) or not meta.get("uid") or not meta.get("resourceVersion"):
        return None
    return (kind, str(meta["uid"]), str(meta["resourceVersion"]))


def to_python(value: Any) -> Any:
    """cel-python values back to JSON-shaped Python values."""
    from celpy import celtypes

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
    if isinstance(value, celtypes.TimestampType):
        return dt.datetime.fromtimestamp(value.timestamp(), dt.UTC)
    if isinstance(value, celtypes.MapType):
        return {to_python(k): to_python(v) for k, v in value.items()}
    if isinstance(value, celtypes.ListType):
        return [to_python(v) for v in value]
    return value
