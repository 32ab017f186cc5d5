"""Kubernetes objects as typed CEL values, as KWOK's CEL environment sees Node, Pod and Container.

KWOK evaluates CEL over Go structs: a field that is not set reads as its zero value
(`pod.metadata.annotations` is an empty map, `pod.status.phase` is ""), times are timestamps and
resource quantities are Quantities. cel-python over plain dicts would raise on every missing
field, so objects are converted with the type information of kwok.api.schema: a missing declared
field yields its zero value, which `has()` still reports as unset. Fields the schema does not know
raise, as in Go.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from typing import Any

from celpy import celtypes, evaluation
from celpy.adapter import json_to_cel

from kwok.api.quantity import Quantity, QuantityError
from kwok.api.schema import FieldInfo, MessageInfo, get_schema
from kwok.engine.celfuncs import CELQuantity
from kwok.engine.durations import parse_go_duration, parse_rfc3339

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class _Unset:
    """Marks a zero value that stands for an unset field (has() is false)."""

    kwok_unset = True


class UnsetString(celtypes.StringType, _Unset):
    pass


class UnsetInt(celtypes.IntType, _Unset):
    pass


class UnsetDouble(celtypes.DoubleType, _Unset):
    pass


class UnsetList(celtypes.ListType, _Unset):
    pass


class UnsetMap(celtypes.MapType, _Unset):
    pass


class UnsetQuantity(CELQuantity, _Unset):
    pass


class UnsetTimestamp(celtypes.TimestampType, _Unset):
    pass


class UnsetDuration(celtypes.DurationType, _Unset):
    pass


class TypedMessage(celtypes.MapType):
    """A message: declared fields that are missing read as their zero values."""

    message: MessageInfo

    def __missing__(self, key: Any) -> Any:
        field = self.message.fields.get(str(key))
        if field is None:
            raise KeyError(key)
        return zero_value(field)


class UnsetMessage(TypedMessage, _Unset):
    pass


def _is_unset(value: Any) -> bool:
    return getattr(value, "kwok_unset", False) is True


def _has(self: evaluation.Evaluator, exprlist: Any) -> celtypes.BoolType:
    values = self.visit_children(exprlist)
    return celtypes.BoolType(not isinstance(values[0], evaluation.CELEvalError) and not _is_unset(values[0]))


evaluation.Evaluator.macro_has_eval = _has  # type: ignore[method-assign]


@functools.cache
def message_for_kind(kind: str) -> MessageInfo | None:
    """The core/v1 message of Node, Pod or Container (what KWOK's CEL types cover)."""
    schema = get_schema()
    name = schema.message_for_kind("", "v1", kind) or f"k8s.io.api.core.v1.{kind}"
    return schema.message(name)


def to_typed(value: Any, message: MessageInfo) -> Any:
    if not isinstance(value, Mapping):
        return json_to_cel(value)
    out = TypedMessage()
    out.message = message
    for key, item in value.items():
        field = message.fields.get(key)
        if field is not None and item is None:
            continue  # null is unset
        out[celtypes.StringType(key)] = _field_value(item, field) if field is not None else json_to_cel(item)
    return out


def _field_value(value: Any, field: FieldInfo) -> Any:
    if field.map_value is not None:
        if not isinstance(value, Mapping):
            return json_to_cel(value)
        return celtypes.MapType(
            {celtypes.StringType(k): _scalar(v, field.map_value, field.ref) for k, v in value.items()}
        )
    if field.repeated:
        if not isinstance(value, list):
            return json_to_cel(value)
        return celtypes.ListType([_scalar(v, field.type, field.ref) for v in value])
    return _scalar(value, field.type, field.ref)


def _scalar(value: Any, kind: str, ref: str | None) -> Any:
    if value is None:
        return None
    try:
        if kind == "message" and ref is not None:
            message = get_schema().message(ref)
            return to_typed(value, message) if message is not None else json_to_cel(value)
        if kind in ("time", "microtime") and isinstance(value, str):
            return celtypes.TimestampType(_EPOCH + dt.timedelta(microseconds=parse_rfc3339(value) // 1000))
        if kind == "duration" and isinstance(value, str):
            return celtypes.DurationType(seconds=0, nanos=parse_go_duration(value))
        if kind == "quantity":
            return CELQuantity(Quantity(str(value)))
    except (ValueError, QuantityError):
        pass
    return json_to_cel(value)


def zero_value(field: FieldInfo) -> Any:
    if field.map_value is not None:
        return UnsetMap()
    if field.repeated:
        return UnsetList()
    kind = field.type
    if kind == "message" and field.ref is not None:
        message = get_schema().message(field.ref)
        if message is not None:
            empty = UnsetMessage()
            empty.message = message
            return empty
        return UnsetMap()
    if kind in ("int32", "int64", "intstr"):
        return UnsetInt(0)
    if kind == "double":
        return UnsetDouble(0.0)
    if kind == "bool":
        return celtypes.BoolType(False)
    if kind == "quantity":
        return UnsetQuantity(Quantity("0"))
    if kind in ("time", "microtime"):
        return UnsetTimestamp(dt.datetime(1, 1, 1, tzinfo=dt.UTC))
    if kind == "duration":
        return UnsetDuration(0)
    return UnsetString("")
