"""Strict field validation: the fields of a built-in object that its type does not have.

Paths use the real server's notation (`spec.containers[0].foo`); apiVersion and kind are part of
every object's TypeMeta.
"""

from __future__ import annotations

from typing import Any

from kwok.api.schema import MessageInfo, get_schema

_OPAQUE = {"time", "microtime", "duration", "quantity", "intstr", "rawextension", "fieldsv1"}


def unknown_fields(obj: dict[str, Any], message: str) -> list[str]:
    out: list[str] = []
    info = get_schema().message(message)
    if info is not None:
        _walk(obj, info, "", out, top=True)
    return out


def _walk(obj: dict[str, Any], info: MessageInfo, path: str, out: list[str], top: bool = False) -> None:
    for key, value in obj.items():
        here = f"{path}.{key}" if path else key
        field = info.fields.get(key)
        if field is None:
            if not (top and key in ("apiVersion", "kind")):
                out.append(here)
            continue
        if field.type != "message" or field.ref is None or value is None:
            continue
        sub = get_schema().message(field.ref)
        if sub is None:
            continue
        if field.is_map:
            if field.map_value == "message" and isinstance(value, dict):
                for k, item in value.items():
                    if isinstance(item, dict):
                        _walk(item, sub, f"{here}[{k}]", out)
        elif field.repeated:
            if isinstance(value, list):
                for i, item in enumerate(value):
                    if isinstance(item, dict):
                        _walk(item, sub, f"{here}[{i}]", out)
        elif isinstance(value, dict):
            _walk(value, sub, here, out)
