"""Structural schemas of custom resources: pruning, defaulting and validation (a good subset of
apiextensions-apiserver and kube-openapi's validator), with the real field-error wording:

    spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"
    spec.size: Invalid value: 0: spec.size in body should be greater than or equal to 1
    spec.color: Unsupported value: "pink": supported values: "red", "blue"

Order as in the real server: prune unknown fields, apply defaults, then validate (OpenAPI keywords,
then the node's x-kubernetes-validations CEL rules).
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from functools import lru_cache
from typing import Any

from kwok.apiserver.registry import Cause
from kwok.apiserver.strategies.fielderrors import (
    invalid,
    not_supported,
    required,
    too_long,
    too_many,
)

Schema = dict[str, Any]
_ROOT_KEEP = ("apiVersion", "kind", "metadata")


def _preserves(schema: Schema) -> bool:
    return bool(schema.get("x-kubernetes-preserve-unknown-fields"))


def prune(value: Any, schema: Schema | None, root: bool = False) -> Any:
    """Drop every field the schema does not declare (unless it preserves unknown fields)."""
    if schema is None or not isinstance(value, dict | list):
        return value
    if isinstance(value, list):
        items = schema.get("items")
        return [prune(v, items) for v in value] if isinstance(items, dict) else value
    props = schema.get("properties")
    additional = schema.get("additionalProperties")
    embedded = root or schema.get("x-kubernetes-embedded-resource")
    out = {}
    for key, child in value.items():
        if embedded and key in _ROOT_KEEP:
            out[key] = child
        elif props and key in props:
            out[key] = prune(child, props[key])
        elif isinstance(additional, dict):
            out[key] = prune(child, additional)
        elif additional is True or _preserves(schema) or (props is None and additional is None
                                                           and schema.get("type") != "object"):
            out[key] = child
    return out


def apply_defaults(value: Any, schema: Schema | None) -> Any:
    """Fill `default`s of absent properties (recursively, defaults themselves included)."""
    if schema is None:
        return value
    if isinstance(value, dict):
        for key, child_schema in (schema.get("properties") or {}).items():
            if key not in value and "default" in child_schema:
                value[key] = copy.deepcopy(child_schema["default"])
            if key in value:
                value[key] = apply_defaults(value[key], child_schema)
        additional = schema.get("additionalProperties")
        if isinstance(additional, dict):
            for key in list(value):
                if key not in (schema.get("properties") or {}):
                    value[key] = apply_defaults(value[key], additional)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [apply_defaults(v, schema["items"]) for v in value]
    return value


_JSON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "object"}


def _type_name(value: Any) -> str:
    return "null" if value is None else _JSON_TYPES.get(type(value), "object")


def _type_ok(value: Any, schema: Schema) -> bool:
    wanted = schema.get("type")
    if schema.get("x-kubernetes-int-or-string"):
        return isinstance(value, int | str) and not isinstance(value, bool)
    if value is None:
        return bool(schema.get("nullable")) or not wanted
    if not wanted:
        return True
    actual = _type_name(value)
    return actual == wanted or (wanted == "number" and actual == "integer")


def validate(value: Any, schema: Schema | None, path: str = "") -> list[Cause]:
    if schema is None:
        return []
    if not _type_ok(value, schema):
        actual = _type_name(value)
        wanted = "integer,string" if schema.get("x-kubernetes-int-or-string") else schema.get("type")
        return [invalid(path, actual, f"{path} in body must be of type {wanted}: \"{actual}\"")]
    if value is None:
        return []
    causes = _validate_enum(value, schema, path)
    if schema.get("x-kubernetes-validations"):
        causes += _validate_rules(value, schema, path)
    if isinstance(value, dict):
        causes += _validate_object(value, schema, path)
    elif isinstance(value, list):
        causes += _validate_array(value, schema, path)
    elif isinstance(value, str):
        causes += _validate_string(value, schema, path)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        causes += _validate_number(value, schema, path)
    return causes


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _validate_enum(value: Any, schema: Schema, path: str) -> list[Cause]:
    enum = schema.get("enum")
    if enum and value not in enum:
        return [not_supported(path, value, [str(e) for e in enum])]
    return []


def _validate_object(value: dict[str, Any], schema: Schema, path: str) -> list[Cause]:
    causes = [required(_join(path, key)) for key in schema.get("required") or [] if key not in value]
    props = schema.get("properties") or {}
    additional = schema.get("additionalProperties")
    for key, child in value.items():
        if key in props:
            causes += validate(child, props[key], _join(path, key))
        elif isinstance(additional, dict):
            causes += validate(child, additional, _join(path, key))
    limit = schema.get("maxProperties")
    if limit is not None and len(value) > limit:
        causes.append(too_many(path, len(value), limit))
    low = schema.get("minProperties")
    if low is not None and len(value) < low:
        causes.append(invalid(path, len(value), f"{path} in body should have at least {low} properties"))
    return causes


def _validate_array(value: list[Any], schema: Schema, path: str) -> list[Cause]:
    causes: list[Cause] = []
    items = schema.get("items")
    if isinstance(items, dict):
        for i, item in enumerate(value):
            causes += validate(item, items, f"{path}[{i}]")
    if schema.get("maxItems") is not None and len(value) > schema["maxItems"]:
        causes.append(too_many(path, len(value), schema["maxItems"]))
    if schema.get("minItems") is not None and len(value) < schema["minItems"]:
        causes.append(invalid(path, len(value), f"{path} in body should have at least {schema['minItems']} items"))
    if schema.get("uniqueItems") or schema.get("x-kubernetes-list-type") == "set":
        seen: list[Any] = []
        for i, item in enumerate(value):
            if item in seen:
                causes.append(Cause("FieldValueDuplicate", f"Duplicate value: {item!r}", f"{path}[{i}]"))
            seen.append(item)
    return causes


@lru_cache(maxsize=512)
def _pattern(text: str) -> re.Pattern[str]:
    return re.compile(text)


def _validate_string(value: str, schema: Schema, path: str) -> list[Cause]:
    causes: list[Cause] = []
    if schema.get("maxLength") is not None and len(value) > schema["maxLength"]:
        causes.append(too_long(path, schema["maxLength"]))
    if schema.get("minLength") is not None and len(value) < schema["minLength"]:
        causes.append(invalid(path, value, f"{path} in body should be at least {schema['minLength']} chars long"))
    pattern = schema.get("pattern")
    if pattern and not _pattern(pattern).search(value):
        causes.append(invalid(path, value, f"{path} in body should match '{pattern}'"))
    return causes


def _validate_number(value: float, schema: Schema, path: str) -> list[Cause]:
    causes: list[Cause] = []
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None:
        if schema.get("exclusiveMinimum") and value <= low:
            causes.append(invalid(path, value, f"{path} in body should be greater than {low}"))
        elif value < low:
            causes.append(invalid(path, value, f"{path} in body should be greater than or equal to {low}"))
    if high is not None:
        if schema.get("exclusiveMaximum") and value >= high:
            causes.append(invalid(path, value, f"{path} in body should be less than {high}"))
        elif value > high:
            causes.append(invalid(path, value, f"{path} in body should be less than or equal to {high}"))
    multiple = schema.get("multipleOf")
    if multiple and value % multiple:
        causes.append(invalid(path, value, f"{path} in body should be a multiple of {multiple}"))
    return causes


# --- x-kubernetes-validations (CEL rules) ---------------------------------------------------------
#
# Rules are evaluated with `self` bound to the value at their schema node. A rule this evaluator
# cannot compile or run (a Kubernetes CEL library function cel-python lacks, or a transition rule
# using `oldSelf`) is skipped: refusing valid objects would be worse than missing a check.

_RULE_REASONS = {"FieldValueInvalid", "FieldValueForbidden", "FieldValueRequired", "FieldValueDuplicate"}
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@lru_cache(maxsize=1024)
def _rule_program(rule: str) -> Any:
    from kwok.engine.celexpr import CELError, CELProgram

    try:
        return CELProgram(rule)
    except CELError:
        return None


def _rule_holds(rule: str, value: Any) -> bool | None:
    """True/False, or None when the rule cannot be evaluated here."""
    from kwok.engine.celexpr import CELContext, CELError

    if "oldSelf" in rule:
        return None
    program = _rule_program(rule)
    if program is None:
        return None
    try:
        result = program.evaluate({"self": value}, CELContext(now=_EPOCH))
    except CELError:
        return None
    return result if isinstance(result, bool) else None


def _validate_rules(value: Any, schema: Schema, path: str) -> list[Cause]:
    causes: list[Cause] = []
    for rule in schema.get("x-kubernetes-validations") or []:
        text = rule.get("rule", "")
        if _rule_holds(text, value) is not False:
            continue
        reason = rule.get("reason") if rule.get("reason") in _RULE_REASONS else "FieldValueInvalid"
        field = path + rule.get("fieldPath", "") if rule.get("fieldPath") else path
        message = rule.get("message") or f"failed rule: {text}"
        kind = schema.get("type") or _type_name(value)
        body = {"FieldValueForbidden": "Forbidden", "FieldValueRequired": "Required value",
                "FieldValueDuplicate": f"Duplicate value: \"{kind}\""}.get(reason, f'Invalid value: "{kind}"')
        causes.append(Cause(reason, f"{body}: {message}", field))
    return causes
