"""Assembling the Table: column definitions, rows and the object each row carries."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from kwok.api import errors
from kwok.api.tables.cells import Obj, Row, as_int, get_path, meta_of
from kwok.api.tables.customresources import custom_resource_columns, custom_resource_row
from kwok.api.tables.descriptions import documented_columns
from kwok.api.tables.pods import pod_conditions
from kwok.api.tables.printers import DEFAULT_COLUMNS, PRINTERS
from kwok.api.tables.uncommon import fields_row


def _printer(resource: str, group: str, printer_columns: list[dict[str, Any]] | None
             ) -> tuple[list[dict[str, Any]], Row]:
    if printer_columns is not None:
        return custom_resource_columns(printer_columns), custom_resource_row(printer_columns)
    found = PRINTERS.get((group, resource))
    if found is None:
        return [dict(c) for c in DEFAULT_COLUMNS], fields_row()
    return [dict(c) for c in documented_columns(group, resource)], found[1]


def column_definitions(resource: str, group: str,
                       printer_columns: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    return _printer(resource, group, printer_columns)[0]


def _row_object(obj: Obj, include_object: str) -> dict[str, Any] | None:
    if include_object in ("Metadata", ""):
        return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": meta_of(obj)}
    if include_object == "Object":
        return dict(obj)
    return None


def _check_include_object(include_object: str) -> None:
    if include_object not in ("Metadata", "Object", "None", ""):
        raise errors.bad_request(f'unrecognized includeObject value: "{include_object}"')


def rows(resource: str, group: str, objects: Iterable[Obj], now: datetime, include_object: str = "Metadata",
         printer_columns: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    _check_include_object(include_object)
    row_cells = _printer(resource, group, printer_columns)[1]
    if printer_columns is None and (group, resource) == ("flowcontrol.apiserver.k8s.io", "flowschemas"):
        # printFlowSchemaList shows them in matching order: precedence, then name
        objects = sorted(objects, key=lambda o: (as_int(get_path(o, "spec", "matchingPrecedence")), meta_of(o).get("name", "")))
    pods = printer_columns is None and (group, resource) == ("", "pods")
    result = []
    for obj in objects:
        row: dict[str, Any] = {"cells": row_cells(obj, now)}
        conditions = pod_conditions(obj) if pods else None
        if conditions:
            row["conditions"] = conditions
        partial = _row_object(obj, include_object)
        if partial is not None:
            row["object"] = partial
        result.append(row)
    return result


def table(resource: str, group: str, objects: Iterable[Obj], now: datetime, include_object: str = "Metadata",
          list_meta: Mapping[str, Any] | None = None,
          printer_columns: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": dict(list_meta or {}),
        "columnDefinitions": column_definitions(resource, group, printer_columns),
        "rows": rows(resource, group, objects, now, include_object, printer_columns),
    }

