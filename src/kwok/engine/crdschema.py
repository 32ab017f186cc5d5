"""The `kwok.x-k8s.io/v1alpha1` kinds and their structural schemas (from the upstream CRDs).

`data/crds.json` is derived from kustomize/crd/bases by tests/engine/gen_crds.py. `validate(doc)`
checks a document against its kind's schema the way the API server does (type, required, enum,
bounds, patterns) and returns a copy with schema defaults filled in; errors are worded like
Kubernetes field errors (`spec.weight: Invalid value: "x": ... must be of type integer`).
Unknown fields are dropped (pruned), as the API server and KWOK's decoder do.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

GROUP_VERSION = "kwok.x-k8s.io/v1alpha1"


@dataclass(frozen=True)
class KindInfo:
    group: str
    version: str
    kind: str
    list_kind: str
    plural: str
    singular: str
    namespaced: bool
    subresources: tuple[str, ...]
    schema: Mapping[str, Any]

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}"


@functools.cache
def kinds() -> dict[str, KindInfo]:
    """The 12 kinds by name."""
    text = importlib.resources.files("kwok.engine").joinpath("data/crds.json").read_text()
    return {k["kind"]: _kind(k) for k in json.loads(text)["kinds"]}


def _kind(row: Mapping[str, Any]) -> KindInfo:
    return KindInfo(
        group=row["group"],
        version=row["version"],
        kind=row["kind"],
        list_kind=row["listKind"],
        plural=row["plural"],
        singular=row["singular"],
        namespaced=row["scope"] == "Namespaced",
        subresources=tuple(row["subresources"]),
        schema=row["schema"],
    )


class SchemaError(ValueError):
    """Field errors of one document, one per line."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def validate(doc: Mapping[str, Any]) -> dict[str, Any]:
    """`doc` checked against its kind's schema, defaults applied; raises SchemaError."""
    info = kinds().get(str(doc.get("kind")))
    if info is None:
        raise SchemaError([f"kind: Unsupported value: {_show(doc.get('kind'))}"])
    errors: list[str] = []
    result = _check(doc, info.schema, "", errors)
    if errors:
        raise SchemaError(errors)
    assert isinstance(result, dict)
    return result


_TYPE_CHECKS = {
    "object": lambda v: isinstance(v, Mapping),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
}


def _check(value: Any, schema: Mapping[str, Any], path: str, errors: list[str]) -> Any:
    if value is None:
        return None  # null is "unset" for optional fields of these CRDs
    if schema.get("x-kubernetes-int-or-string"):
        if not (_TYPE_CHECKS["integer"](value) or isinstance(value, str)):
            errors.append(
                f"{path}: Invalid value: {_show(value)}: {path} in body must be of type integer-or-string"
            )
        return value
    kind = schema.get("type")
    if kind and not _TYPE_CHECKS[kind](value):
        errors.append(
            f"{path}: Invalid value: {_show(value)}: {path} in body must be of type {kind}: {_go_type(value)}"
        )
        return value
    _check_scalar(value, schema, path, errors)
    if kind == "object":
        return _check_object(value, schema, path, errors)
    if kind == "array":
        item = schema.get("items") or {}
        return [_check(v, item, f"{path}[{i}]", errors) for i, v in enumerate(value)]
    return value


def _check_object(
    value: Mapping[str, Any], schema: Mapping[str, Any], path: str, errors: list[str]
) -> dict[str, Any]:
    props: Mapping[str, Any] = schema.get("properties") or {}
    extra = schema.get("additionalProperties")
    out: dict[str, Any] = {}
    for key, item in value.items():
        sub = f"{path}.{key}" if path else str(key)
        if key in props:
            out[key] = _check(item, props[key], sub, errors)
        elif isinstance(extra, Mapping):
            out[key] = _check(item, extra, sub, errors)
        elif extra is True or (not props and schema.get("type") == "object"):
            out[key] = item  # free-form object (e.g. metadata)
    for key, sub_schema in props.items():
        if key not in out and "default" in sub_schema:
            out[key] = sub_schema["default"]
    for key in schema.get("required") or ():
        if out.get(key) is None:
            errors.append(f"{path + '.' if path else ''}{key}: Required value")
    return out


def _check_scalar(value: Any, schema: Mapping[str, Any], path: str, errors: list[str]) -> None:
    enum = schema.get("enum")
    if enum is not None and value not in enum:
        allowed = ", ".join(_show(e) for e in enum)
        errors.append(f"{path}: Unsupported value: {_show(value)}: supported values: {allowed}")
    if "minimum" in schema and value < schema["minimum"]:
        errors.append(
            f"{path}: Invalid value: {_show(value)}: {path} in body should be greater than or equal to {schema['minimum']}"
        )
    if "maximum" in schema and value > schema["maximum"]:
        errors.append(
            f"{path}: Invalid value: {_show(value)}: {path} in body should be less than or equal to {schema['maximum']}"
        )
    if "pattern" in schema and isinstance(value, str) and not re.search(schema["pattern"], value):
        errors.append(
            f"{path}: Invalid value: {_show(value)}: {path} in body should match '{schema['pattern']}'"
        )
    if "minLength" in schema and isinstance(value, str) and len(value) < schema["minLength"]:
        errors.append(
            f"{path}: Invalid value: {_show(value)}: {path} in body should be at least {schema['minLength']} chars long"
        )


def _show(value: Any) -> str:
    return json.dumps(value) if isinstance(value, str) else str(value)


def _go_type(value: Any) -> str:
    if isinstance(value, bool):
        return '"boolean"'
    if isinstance(value, str):
        return '"string"'
    if isinstance(value, (int, float)):
        return '"number"' if isinstance(value, float) else '"integer"'
    return '"array"' if isinstance(value, list) else '"object"'
