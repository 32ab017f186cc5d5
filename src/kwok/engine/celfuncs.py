"""KWOK's CEL functions and its Quantity type (pkg/utils/cel, pkg/kwok/metrics).

    Now()  Rand()  SinceSecond(obj)  UnixSecond(t)  Quantity("100m")
    Usage(pod|node, resource[, container])  CumulativeUsage(...)  StartedContainersTotal(node|name)

Every function with an argument may also be called on its first argument (`pod.Usage("cpu")`).
A Quantity supports + and - with Quantities, * and / with numbers (and Quantities), negation and
comparison; where a number is needed it is its approximate float value.

These are the functions cel-python calls; the Quantity value itself (CELQuantity) lives in the
celpy-free kwok.engine.celquantity, which kwok.engine.celfast evaluates with the same results.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from celpy import celtypes
from celpy.evaluation import base_functions

from kwok.api.quantity import Quantity
from kwok.engine.celquantity import CELQuantity, as_float, make_quantity
from kwok.engine.durations import parse_rfc3339, to_unix_nanos

if TYPE_CHECKING:
    from kwok.engine.celexpr import CELContext

__all__ = ["CELQuantity", "OPERATORS", "as_float", "context_functions", "make_quantity"]


def _from_float(value: float) -> CELQuantity:
    if value == int(value) and abs(value) < 2**62:
        return CELQuantity(Quantity.from_int(int(value)))
    return CELQuantity(Quantity.from_milli(round(value * 1000)))


def _number(value: Any) -> float:
    if isinstance(value, CELQuantity):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    raise TypeError(f"no such overload: {type(value).__name__}")


def _arith(
    name: str, exact: Callable[[Quantity, Quantity], Quantity] | None, approx: Callable[[float, float], float]
) -> Callable[..., Any]:
    base = base_functions[name]

    def call(a: Any, b: Any) -> Any:
        if not isinstance(a, CELQuantity) and not isinstance(b, CELQuantity):
            return base(a, b)
        if exact is not None and isinstance(a, CELQuantity) and isinstance(b, CELQuantity):
            return CELQuantity(exact(a.quantity, b.quantity))
        return _from_float(approx(_number(a), _number(b)))

    return call


def _compare(name: str, op: Callable[[Any, Any], bool]) -> Callable[..., Any]:
    base = base_functions[name]

    def call(a: Any, b: Any) -> Any:
        if isinstance(a, CELQuantity) and isinstance(b, CELQuantity):
            return celtypes.BoolType(op(a.quantity, b.quantity))
        if isinstance(a, CELQuantity) or isinstance(b, CELQuantity):
            return celtypes.BoolType(op(_number(a), _number(b)))
        return base(a, b)

    return call


def _negate(a: Any) -> Any:
    if isinstance(a, CELQuantity):
        return CELQuantity(-a.quantity)
    return base_functions["-_"](a)


def _double(value: Any) -> Any:
    if isinstance(value, CELQuantity):
        return celtypes.DoubleType(float(value))
    return base_functions["double"](value)


OPERATORS: dict[str, Callable[..., Any]] = {
    "_+_": _arith("_+_", operator.add, operator.add),
    "_-_": _arith("_-_", operator.sub, operator.sub),
    "_*_": _arith("_*_", None, operator.mul),
    "_/_": _arith("_/_", None, operator.truediv),
    "_<_": _compare("_<_", operator.lt),
    "_<=_": _compare("_<=_", operator.le),
    "_>_": _compare("_>_", operator.gt),
    "_>=_": _compare("_>=_", operator.ge),
    "-_": _negate,
    "double": _double,
    "Quantity": make_quantity,
}


def _field(obj: Any, key: str) -> Any:
    # `in` first: celpy maps raise on .get() of a missing key, typed ones invent zero values.
    return obj[key] if isinstance(obj, Mapping) and key in obj else None


def _creation_seconds(obj: Any) -> float | None:
    stamp = _field(_field(obj, "metadata"), "creationTimestamp")
    if not stamp:
        return None
    if isinstance(stamp, celtypes.TimestampType):
        return float(stamp.timestamp())
    return parse_rfc3339(str(stamp)) / 1e9


def _to_plain(value: Any) -> Any:
    from kwok.engine.celexpr import to_python

    return to_python(value)


def context_functions(ctx: CELContext) -> dict[str, Callable[..., Any]]:
    """The functions bound to one evaluation's clock, random source and usage providers."""
    now_seconds = to_unix_nanos(ctx.now) / 1e9

    def since_second(obj: Any) -> celtypes.DoubleType:
        created = _creation_seconds(obj)
        return celtypes.DoubleType(0.0 if created is None else now_seconds - created)

    def unix_second(when: Any) -> celtypes.DoubleType:
        if isinstance(when, celtypes.TimestampType):
            return celtypes.DoubleType(when.timestamp())
        return celtypes.DoubleType(parse_rfc3339(str(when)) / 1e9)

    def now() -> celtypes.TimestampType:
        return celtypes.TimestampType(ctx.now.astimezone(dt.UTC))

    funcs: dict[str, Callable[..., Any]] = dict(OPERATORS)
    funcs.update(
        {
            "Now": now,
            "now": now,
            "Rand": lambda: celtypes.DoubleType(ctx.rand()),
            "SinceSecond": since_second,
            "UnixSecond": unix_second,
        }
    )
    funcs.update(_usage_functions(ctx))
    funcs.update(ctx.extra)
    return funcs


def _usage_functions(ctx: CELContext) -> dict[str, Callable[..., Any]]:
    funcs: dict[str, Callable[..., Any]] = {}
    for name, provider in (("Usage", ctx.usage), ("CumulativeUsage", ctx.cumulative_usage)):
        if provider is not None:
            funcs[name] = _usage_call(provider)
    started = ctx.started_containers_total
    if started is not None:

        def started_total(node: Any) -> celtypes.IntType:
            name = (
                node if isinstance(node, str) else ((_to_plain(node).get("metadata") or {}).get("name") or "")
            )
            return celtypes.IntType(started(str(name)))

        funcs["StartedContainersTotal"] = funcs["startedContainersTotal"] = started_total
    return funcs


def _usage_call(provider: Callable[..., float]) -> Callable[..., Any]:
    def call(obj: Any, resource: Any, container: Any = None) -> celtypes.DoubleType:
        return celtypes.DoubleType(
            provider(_to_plain(obj), str(resource), None if container is None else str(container))
        )

    return call
