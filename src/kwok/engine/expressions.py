"""Stage selectors and values computed from the object: matchExpressions, weightFrom, *DurationFrom.

KWOK's rules (pkg/utils/lifecycle, pkg/utils/expression), quirks included:
* jq `In`: any output equals one of the values, outputs compared as strings, booleans as
  "true"/"false", integers in decimal; a JSON float never matches. `NotIn` is its negation,
  `Exists` means some non-null output, `DoesNotExist` none. A runtime error means no output.
* weightFrom (jq): the first output, a number or an integer string (Go ParseInt, base 0);
  an empty or unparsable string makes the weight unavailable; no output, or another type,
  falls back to `weight`. CEL: an int (double, bool, duration accepted), else an error.
* durationFrom (jq): the first output, an RFC 3339 time (delay = time - now) or a Go duration;
  an empty string is unavailable; no output or anything else falls back to the milliseconds.
  CEL: a Go duration string, a duration, or a number of nanoseconds, else an error.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kwok.engine.celexpr import CELContext, CELError, CELProgram
from kwok.engine.durations import parse_go_duration, parse_rfc3339, to_unix_nanos
from kwok.engine.jqexpr import JQ

OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")

_CACHE_SIZE = 4096


class CachedCEL:
    """A CEL program whose results are cached per object revision (uid, resourceVersion)."""

    __slots__ = ("program", "_cache", "_typed", "_clocked")

    def __init__(self, source: str, self_kind: str | None = None) -> None:
        self.program = CELProgram(source)
        self._typed = {"self": self_kind} if self_kind else None
        self._cache: OrderedDict[tuple[str, str, float, bool], Any] = OrderedDict()
        # An expression reading the clock or the random source is only cached for one instant.
        self._clocked = any(name in source for name in _CLOCKED_FUNCTIONS)

    def evaluate(self, obj: Any, ctx: CELContext) -> Any:
        key = _revision_key(obj, ctx, self._clocked)
        if key is not None and key in self._cache:
            return self._cache[key]
        result = self.program.evaluate({"self": obj}, ctx, None if ctx.unstructured else self._typed)
        if key is not None:
            self._cache[key] = result
            if len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        return result


_CLOCKED_FUNCTIONS = ("Now", "now(", "Rand", "SinceSecond")


def _revision_key(obj: Any, ctx: CELContext, clocked: bool) -> tuple[str, str, float, bool] | None:
    meta = obj.get("metadata") if isinstance(obj, Mapping) else None
    if not isinstance(meta, Mapping):
        return None
    uid, rv = meta.get("uid"), meta.get("resourceVersion")
    if not uid or not rv:
        return None
    return (str(uid), str(rv), to_unix_nanos(ctx.now) / 1e9 if clocked else 0.0, ctx.unstructured)


@dataclass(frozen=True)
class JQRequirement:
    """One jq matchExpression. `typed`: the stage is for v1 Node/Pod, whose controllers hand jq
    the object through a JSON round trip, so every number is a float and never matches In."""

    query: JQ
    operator: str
    values: tuple[str, ...]
    typed: bool = False

    def matches(self, obj: Any, ctx: CELContext | None = None) -> bool:
        outputs = self.query.outputs(obj)
        if self.operator == "Exists":
            return bool(outputs)
        if self.operator == "DoesNotExist":
            return not outputs
        ints_match = not self.typed or (ctx is not None and ctx.unstructured)
        found = False
        for value in outputs:
            if (value if type(value) is str else _as_selector_string(value, ints_match)) in self.values:
                found = True
                break
        return found if self.operator == "In" else not found


def _as_selector_string(value: Any, ints_match: bool) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int) and ints_match:
        return str(value)
    return None  # floats, lists and objects never equal a value


@dataclass(frozen=True)
class CELRequirement:
    """One CEL matchExpression. It must yield a bool; an error (or another type) raises
    CELError, and KWOK then matches no stage at all for this object."""

    expression: CachedCEL

    def matches(self, obj: Any, ctx: CELContext) -> bool:
        result = self.expression.evaluate(obj, ctx)
        if not isinstance(result, bool):
            raise CELError(
                f"{self.expression.program.source}: the result must be a bool, got {type(result).__name__}"
            )
        return result


# --- values from the object -------------------------------------------------------------------

DEFAULT = object()  # "use the static value" (weight / durationMilliseconds)


@dataclass(frozen=True)
class ValueFrom:
    """An ExpressionFrom (weightFrom, durationFrom, jitterDurationFrom): jq or CEL.

    jq never fails (a runtime error is no output); a CEL error or a result of the wrong type
    raises CELError, which makes the whole match fail, as in KWOK."""

    jq: JQ | None = None
    cel: CachedCEL | None = None

    def weight(self, obj: Any, ctx: CELContext) -> Any:
        """An int, None (unavailable) or DEFAULT."""
        if self.jq is not None:
            return _jq_weight(self.jq.outputs(obj))
        assert self.cel is not None
        return _cel_int64(self.cel.evaluate(obj, ctx), self.cel.program.source)

    def duration(self, obj: Any, now_ns: int, ctx: CELContext) -> Any:
        """Nanoseconds, None (unavailable) or DEFAULT."""
        if self.jq is not None:
            return _jq_duration(self.jq.outputs(obj), now_ns)
        assert self.cel is not None
        return _cel_duration(self.cel.evaluate(obj, ctx), self.cel.program.source)


def _jq_weight(outputs: list[Any]) -> Any:
    if not outputs:
        return DEFAULT
    value = outputs[0]
    if isinstance(value, str):
        return _parse_int_base0(value) if value else None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    return DEFAULT


def _jq_duration(outputs: list[Any], now_ns: int) -> Any:
    if not outputs or not isinstance(outputs[0], str):
        return DEFAULT
    text = outputs[0]
    if not text:
        return None
    try:
        return parse_rfc3339(text) - now_ns
    except ValueError:
        pass
    try:
        return parse_go_duration(text)
    except ValueError:
        return DEFAULT


def _cel_int64(value: Any, source: str) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, dt.timedelta):
        return _nanos(value)
    raise CELError(f"{source}: {type(value).__name__} cannot be used as a weight")


def _cel_duration(value: Any, source: str) -> int:
    if isinstance(value, dt.timedelta):
        return _nanos(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, str):
        try:
            return parse_go_duration(value)
        except ValueError as err:
            raise CELError(f"{source}: {err}") from None
    raise CELError(f"{source}: {type(value).__name__} cannot be used as a duration")


def _nanos(value: dt.timedelta) -> int:
    return (value.days * 86_400 + value.seconds) * 1_000_000_000 + value.microseconds * 1_000


def _parse_int_base0(text: str) -> int | None:
    """Go's strconv.ParseInt(s, 0, 64): 0x/0o/0b prefixes, a leading 0 meaning octal, underscores."""
    sign = -1 if text.startswith("-") else 1
    body = text[1:] if text[:1] in "+-" else text
    try:
        if len(body) > 1 and body[0] == "0" and body[1] in "01234567_":
            value = int(body[1:], 8)
        else:
            value = int(body, 0)
    except ValueError:
        return None
    value *= sign
    return value if -(2**63) <= value < 2**63 else None
