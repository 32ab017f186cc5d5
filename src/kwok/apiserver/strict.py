"""Strict field validation: the fields of a built-in object that its type does not have.

Paths use the real server's notation (`spec.containers[0].foo`); apiVersion and kind are part of
every object's TypeMeta. Unless the request is Strict (refused), the real server's decoder drops
unknown fields of a built-in object (they are never stored): `prune` does that.
"""

from __future__ import annotations

from typing import Any

from kwok.api.schema import MessageInfo, get_schema

_OPAQUE = {"time", "microtime", "duration", "quantity", "intstr", "rawextension", "fieldsv1"}


def unknown_fields(obj: dict[str, Any], message: str, prune: bool = False) -> list[str]:
    """The paths of the fields `message` does not have; `prune` also removes them from `obj`."""
    out: list[str] = []
    info = get_schema().message(message)
    if info is not None:
        _walk(obj, info, "", out, prune, top=True)
    return out


def _walk(obj: dict[str, Any], info: MessageInfo, path: str, out: list[str], prune: bool,
          top: bool = False) -> None:
    unknown: list[str] = []
    for key, value in obj.items():
        here = f"{path}.{key}" if path else key
        field = info.fields.get(key)
        if field is None:
            if not (top and key in ("apiVersion", "kind")):
                out.append(here)
                unknown.append(key)
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
                        _walk(item, sub, f"{here}[{k}]", out, prune)
        elif field.repeated:
            if isinstance(value, list):
                for i, item in enumerate(value):
                    if isinstance(item, dict):
                        _walk(item, sub, f"{here}[{i}]", out, prune)
        elif isinstance(value, dict):
            _walk(value, sub, here, out, prune)
    if prune:
        for key in unknown:
            del obj[key]
