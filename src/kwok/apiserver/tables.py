"""Server-side Tables (Accept `as=Table`) for lists, single objects and watch events.

kwok.api.tables renders the columns of each kind (a CRD's additionalPrinterColumns for custom
resources); this module feeds it the served resource. The real server prints from the internal
form of an object, so kinds stored in several versions are printed from one of them: an
autoscaling/v1 HPA shows the metrics its annotations carry, as `kubectl get hpa` does on a
real cluster; the objects the rows carry stay in the version of the request.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from kwok.api import tables
from kwok.apiserver import hpaconversion
from kwok.apiserver.catalog import Served

Obj = dict[str, Any]
_PRINTED_FORM: dict[tuple[str, str], Callable[[Obj], Obj]] = {
    ("autoscaling", "horizontalpodautoscalers"): lambda o: hpaconversion.convert(o, hpaconversion.V2),
}


def wants_table(accept: str) -> bool:
    return "as=Table" in accept


def to_table(served: Served, objs: list[Obj], now: dt.datetime, include_object: str | None,
             list_meta: Obj) -> Obj:
    info = served.info
    printed_form = _PRINTED_FORM.get((info.group, info.plural))
    printed = [printed_form(o) for o in objs] if printed_form else objs
    columns = list(served.printer_columns) if served.printer_columns is not None else None
    table = tables.table(info.plural, info.group, printed, now, include_object or "Metadata", list_meta, columns)
    if printed_form is not None and include_object == "Object":
        for row, obj in zip(table["rows"], objs, strict=True):
            row["object"] = hpaconversion.convert(obj, info.group_version)
    return table
