"""Field errors worded exactly as apimachinery's field.Error renders them.

A 422 Invalid Status lists these as `details.causes`; the handler joins them into the message
(`Pod "x" is invalid: spec.containers: Required value`), so the wording here is what users read.
"""

from __future__ import annotations

from typing import Any

from kwok.api.errors import go_quote, go_value
from kwok.apiserver.registry import Cause


def required(path: str, detail: str = "") -> Cause:
    return Cause("FieldValueRequired", f"Required value: {detail}" if detail else "Required value", path)


def invalid(path: str, value: Any, detail: str) -> Cause:
    return Cause("FieldValueInvalid", f"Invalid value: {go_value(value)}: {detail}", path)


def not_supported(path: str, value: Any, supported: list[str]) -> Cause:
    allowed = ", ".join(go_quote(s) for s in supported)
    return Cause("FieldValueNotSupported", f"Unsupported value: {go_value(value)}: supported values: {allowed}", path)


def forbidden(path: str, detail: str) -> Cause:
    return Cause("FieldValueForbidden", f"Forbidden: {detail}", path)


def duplicate(path: str, value: Any) -> Cause:
    return Cause("FieldValueDuplicate", f"Duplicate value: {go_value(value)}", path)


def too_long(path: str, limit: int) -> Cause:
    return Cause("FieldValueTooLong", f"Too long: may not be more than {limit} bytes", path)


def too_many(path: str, actual: int, limit: int) -> Cause:
    return Cause("FieldValueTooMany", f"Too many: {actual}: must have at most {limit} items", path)


def immutable(path: str, value: Any) -> Cause:
    return invalid(path, value, "field is immutable")


def non_negative(path: str, value: Any) -> list[Cause]:
    if isinstance(value, int) and value < 0:
        return [invalid(path, value, "must be greater than or equal to 0")]
    return []


def positive(path: str, value: Any) -> list[Cause]:
    if isinstance(value, int) and value <= 0:
        return [invalid(path, value, "must be greater than 0")]
    return []


def invalid_rendered(path: str, rendered: str, detail: str) -> Cause:
    """Invalid with a value already in Go's %#v form (maps, structs)."""
    return Cause("FieldValueInvalid", f"Invalid value: {rendered}: {detail}", path)


def go_string_map(labels: dict[str, str]) -> str:
    """`%#v` of a map[string]string: keys sorted, as Go's fmt prints maps."""
    return "map[string]string{" + ", ".join(f"{go_quote(k)}:{go_quote(str(v))}"
                                            for k, v in sorted(labels.items())) + "}"
