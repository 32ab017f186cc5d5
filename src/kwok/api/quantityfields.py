"""Resource quantities as the real API server stores them: in their canonical form.

A typed object's `resource.Quantity` fields are decoded into Quantity values and encoded back with
`String()`, so what a client wrote as `cpu: 0.5`, `memory: 1.5Gi` or `cpu: 1` (a JSON number) is
stored and returned as `500m`, `1536Mi` and `"1"`; a string already in canonical form is kept as
written (Go caches it). The fields are found from the schema: `canonicalize(message, obj)` walks
only the paths of `message` that lead to a quantity (a pod: its containers' resources, overhead,
pod-level resources; a node: capacity and allocatable), computed once per message.

A value that does not parse is left alone: validation reports it with its path.
"""

from __future__ import annotations

import functools
from typing import Any

from kwok.api.quantity import Quantity, QuantityError
from kwok.api.schema import get_schema

Obj = dict[str, Any]
# name -> (is a quantity, repeated, map, the nested plan for a message)
Plan = dict[str, tuple[bool, bool, bool, "Plan | None"]]


@functools.lru_cache(maxsize=4096)
def canonical(value: str) -> str:
    try:
        return str(Quantity(value))
    except QuantityError:
        return value


def _canonical_any(value: Any) -> Any:
    if isinstance(value, str):
        return canonical(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return canonical(repr(value) if isinstance(value, float) else str(value))   # always a string
    return value


@functools.lru_cache(maxsize=1024)
def plan_for(message: str) -> Plan | None:
    """The paths of `message` that lead to quantities; None when there are none."""
    return _plan(message, ())


def _plan(message: str, seen: tuple[str, ...]) -> Plan | None:
    if message in seen or len(seen) > 12:      # recursive types (JSONSchemaProps) hold no quantities
        return None
    info = get_schema().message(message)
    if info is None:
        return None
    plan: Plan = {}
    for name, field in info.fields.items():
        if field.type == "quantity" or field.map_value == "quantity":
            plan[name] = (True, field.repeated, field.is_map, None)
        elif field.type == "message" and field.ref:
            sub = _plan(field.ref, (*seen, message))
            if sub:
                plan[name] = (False, field.repeated, field.is_map, sub)
    return plan or None


def canonicalize(message: str | None, obj: Any) -> None:
    """Rewrite, in place, the quantities of an object of `message` into their canonical form."""
    if message is None or not isinstance(obj, dict):
        return
    plan = plan_for(message)
    if plan is not None:
        _walk(obj, plan)


def _walk(obj: Obj, plan: Plan) -> None:
    for name, (leaf, repeated, is_map, sub) in plan.items():
        value = obj.get(name)
        if value is None:
            continue
        if leaf:
            if isinstance(value, dict):
                for key, amount in value.items():
                    fixed = _canonical_any(amount)
                    if fixed is not amount:
                        value[key] = fixed
            elif repeated and isinstance(value, list):
                value[:] = [_canonical_any(v) for v in value]
            else:
                obj[name] = _canonical_any(value)
            continue
        assert sub is not None
        if isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    _walk(item, sub)
        elif isinstance(value, dict):
            if is_map:
                for item in value.values():
                    if isinstance(item, dict):
                        _walk(item, sub)
            else:
                _walk(value, sub)
