"""The parts of the Kubernetes CEL library that admission expressions use most, on cel-python.

- strings extension: `lowerAscii`, `upperAscii`, `split`, `join`, `replace`, `trim`, `indexOf`,
  `lastIndexOf`, `substring`;
- lists: `isSorted`, `sum`, `min`, `max`, `indexOf`, `lastIndexOf`;
- regex: `find`, `findAll`;
- quantity: `quantity("1Gi")`, `isQuantity`, and on a quantity `isLessThan`, `isGreaterThan`,
  `compareTo`, `add`, `sub`, `asInteger`, `asApproximateFloat`, `sign`, `isInteger`;
- authz: `authorizer.group(..).resource(..).namespace(..).name(..).check(verb).allowed()`,
  `authorizer.requestResource.check(verb)`, `authorizer.serviceAccount(ns, name)`, `path(..)`;
  every check is allowed, as this server authorizes every request.

Each function can be called on its first argument (`'a,b'.split(',')`), as cel-python dispatches
receiver calls to the function of that name.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from celpy import celtypes

from kwok.api.quantity import Quantity, QuantityError
from kwok.engine.celquantity import CELQuantity


def _quantity(text: Any) -> CELQuantity:
    try:
        return CELQuantity(Quantity(str(text)))
    except QuantityError as err:
        raise ValueError(f"quantities must match the regular expression: {err}") from None


def _is_quantity(text: Any) -> Any:
    try:
        Quantity(str(text))
    except QuantityError:
        return celtypes.BoolType(False)
    return celtypes.BoolType(True)


def _as_integer(q: CELQuantity) -> Any:
    if q.quantity.milli_value() % 1000:
        raise ValueError("cannot convert value to integer")
    return celtypes.IntType(q.quantity.value())


def _quantity_functions() -> dict[str, Callable[..., Any]]:
    return {
        "quantity": _quantity,
        "isQuantity": _is_quantity,
        "isLessThan": lambda a, b: celtypes.BoolType(a.quantity < b.quantity),
        "isGreaterThan": lambda a, b: celtypes.BoolType(a.quantity > b.quantity),
        "compareTo": lambda a, b: celtypes.IntType(a.quantity.compare(b.quantity)),
        "add": lambda a, b: CELQuantity(a.quantity + (b.quantity if isinstance(b, CELQuantity)
                                                       else Quantity.from_int(int(b)))),
        "sub": lambda a, b: CELQuantity(a.quantity - (b.quantity if isinstance(b, CELQuantity)
                                                       else Quantity.from_int(int(b)))),
        "asInteger": _as_integer,
        "asApproximateFloat": lambda q: celtypes.DoubleType(float(q.quantity)),
        "sign": lambda q: celtypes.IntType(q.quantity.sign()),
        "isInteger": lambda q: celtypes.BoolType(q.quantity.milli_value() % 1000 == 0),
    }


def _string_functions() -> dict[str, Callable[..., Any]]:
    string = celtypes.StringType

    def split(text: Any, sep: Any, limit: Any = -1) -> Any:
        limit = int(limit)
        if limit == 0:
            return celtypes.ListType([])
        parts = str(text).split(str(sep), limit - 1) if limit > 0 else str(text).split(str(sep))
        return celtypes.ListType([string(p) for p in parts])

    def substring(text: Any, start: Any, end: Any = None) -> Any:
        return string(str(text)[int(start):None if end is None else int(end)])

    return {
        "lowerAscii": lambda s: string(str(s).lower()),
        "upperAscii": lambda s: string(str(s).upper()),
        "trim": lambda s: string(str(s).strip()),
        "split": split,
        "join": lambda values, sep="": string(str(sep).join(str(v) for v in values)),
        "substring": substring,
        "replace": lambda s, old, new, n=-1: string(str(s).replace(str(old), str(new), int(n))),
        "find": lambda s, pattern: string(m.group(0) if (m := re.search(str(pattern), str(s))) else ""),
        "findAll": lambda s, pattern, n=-1: celtypes.ListType(
            [string(m.group(0)) for m in re.finditer(str(pattern), str(s))][:None if int(n) < 0 else int(n)]),
    }


def _index_of(target: Any, item: Any, start: Any = 0) -> Any:
    if isinstance(target, str):
        return celtypes.IntType(str(target).find(str(item), int(start)))
    return celtypes.IntType(next((i for i, v in enumerate(target) if v == item), -1))


def _last_index_of(target: Any, item: Any) -> Any:
    if isinstance(target, str):
        return celtypes.IntType(str(target).rfind(str(item)))
    return celtypes.IntType(next((i for i in range(len(target) - 1, -1, -1) if target[i] == item), -1))


def _list_functions() -> dict[str, Callable[..., Any]]:
    def total(values: Any) -> Any:
        items = list(values)
        return sum(items[1:], items[0]) if items else celtypes.IntType(0)

    return {
        "indexOf": _index_of,
        "lastIndexOf": _last_index_of,
        "isSorted": lambda values: celtypes.BoolType(list(values) == sorted(values)),
        "sum": total,
        "min": lambda values: min(values),
        "max": lambda values: max(values),
    }


class _Check:
    """A request to the authorizer being built (`authorizer.group('apps').resource('deployments')`)."""

    __slots__ = ("parts",)

    def __init__(self, **parts: str) -> None:
        self.parts = parts

    def but(self, key: str, value: Any) -> _Check:
        return _Check(**{**self.parts, key: str(value)})


class _Decision:
    """What the authorizer decided: this server authorizes every request (see authorization.py)."""

    __slots__ = ()


def authorizer(request_resource: dict[str, str]) -> Any:
    """The CEL `authorizer` variable, with `authorizer.requestResource` set to the request's resource."""
    return celtypes.MapType({celtypes.StringType("requestResource"): _Check(**request_resource)})


def _authorizer_functions() -> dict[str, Callable[..., Any]]:
    def start(receiver: Any) -> _Check:
        return receiver if isinstance(receiver, _Check) else _Check()

    return {
        **{part: (lambda key: lambda receiver, value: start(receiver).but(key, value))(part)
           for part in ("group", "resource", "subresource", "namespace", "name", "path")},
        "serviceAccount": lambda receiver, ns, name: _Check(user=f"system:serviceaccount:{ns}:{name}"),
        "check": lambda check, verb: _Decision(),
        "allowed": lambda decision: celtypes.BoolType(True),
        "errored": lambda decision: celtypes.BoolType(False),
        "reason": lambda decision: celtypes.StringType(""),
        "error": lambda decision: celtypes.StringType(""),
    }


@functools.cache
def library() -> dict[str, Callable[..., Any]]:
    return {**_string_functions(), **_list_functions(), **_quantity_functions(), **_authorizer_functions()}
