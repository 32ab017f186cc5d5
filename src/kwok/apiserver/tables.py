"""Server-side Tables (Accept `as=Table`) for lists, single objects and watch events.

kwok.api.tables renders the columns of each kind (a CRD's additionalPrinterColumns for custom
resources); this module only feeds it the served resource.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from kwok.api import tables
from kwok.apiserver.catalog import Served

Obj = dict[str, Any]


def wants_table(accept: str) -> bool:
    return "as=Table" in accept


def to_table(served: Served, objs: list[Obj], now: dt.datetime, include_object: str | None,
             list_meta: Obj) -> Obj:
    info = served.info
    if not hasattr(tables, "table"):      # the printers are still being written: Name only
        rows = [{"cells": [o["metadata"].get("name", "")], "object": o} for o in objs]
        return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": list_meta,
                "columnDefinitions": [{"name": "Name", "type": "string", "format": "name", "description": "",
                                       "priority": 0}], "rows": rows}
    return tables.table(info.plural, info.group, objs, now, include_object or "Metadata", list_meta,
                        list(served.printer_columns) if served.printer_columns is not None else None)
