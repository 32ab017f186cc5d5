"""Columns and cells of custom resources, from their CRD's additionalPrinterColumns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kwok.api.duration import parse_time, since
from kwok.api.jsonpath import JSONPath, JSONPathError, compile_path, print_value
from kwok.api.tables.cells import AGE_DOC, NAME, Cells, Obj, Row, as_int, meta_of

# --- custom resources ----------------------------------------------------------------------------

_DEFAULT_CR_COLUMNS = ({"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp",
                        "description": AGE_DOC},)


def custom_resource_columns(printer_columns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The Table columns of a CRD version: Name, then each printer column (Age when none)."""
    columns = [dict(NAME)]
    for column in printer_columns or _DEFAULT_CR_COLUMNS:
        path = column.get("jsonPath", "")
        columns.append({
            "name": column.get("name", ""), "type": column.get("type", ""), "format": column.get("format", ""),
            "description": column.get("description")
            or f"Custom resource definition column (in JSONPath format): {path}",
            "priority": as_int(column.get("priority")),
        })
    return columns


def _cr_cell(column_type: str, values: list[Any], now: datetime) -> Any:
    if not values:
        return None
    value = values[0]
    if column_type == "string":
        return print_value(value)
    if value is None:
        return None
    if column_type == "integer" and isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    if column_type == "number" and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if column_type == "boolean" and isinstance(value, bool):
        return value
    if column_type == "date" and isinstance(value, str):
        return since(value, now) if parse_time(value) else "<invalid>"
    return None


def custom_resource_row(printer_columns: list[dict[str, Any]]) -> Row:
    compiled: list[tuple[str, JSONPath | None]] = []
    for column in printer_columns or _DEFAULT_CR_COLUMNS:
        try:
            compiled.append((column.get("type", ""), compile_path(column.get("jsonPath", ""))))
        except JSONPathError:
            compiled.append((column.get("type", ""), None))

    def row(obj: Obj, now: datetime) -> Cells:
        cells: Cells = [meta_of(obj).get("name", "")]
        for column_type, path in compiled:
            cells.append(_cr_cell(column_type, path.find(obj), now) if path else None)
        return cells

    return row

