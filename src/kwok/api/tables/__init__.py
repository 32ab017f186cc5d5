"""Server-side Table rendering (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`).

`kubectl get` prints whatever columns and cells the API server puts in a `meta.k8s.io/v1` Table,
so these follow the kube-apiserver 1.36 printers (`pkg/printers/internalversion/printers.go`)
cell by cell. The server always renders the wide columns (priority 1) and kubectl hides them
unless `-o wide`. Resources without a printer there (roles, clusterroles, limitranges, CRDs)
use apiserver's default convertor: Name and "Created At" (an RFC 3339 time). Custom resources
use their CRD's `additionalPrinterColumns` (see `custom_resource_columns`).

PUBLIC NAMES (the API server calls these):

    table(resource, group, objects, now, include_object="Metadata", list_meta=None,
          printer_columns=None) -> dict
        # the Table for a list (or one object: pass [obj]). `printer_columns` is the CRD
        # version's additionalPrinterColumns for a custom resource (None: a built-in resource).
        # include_object: "Metadata" (default, also ""), "Object" or "None"; anything else raises
        # ApiError 400 `unrecognized includeObject value: "x"`.
    column_definitions(resource, group, printer_columns=None) -> list[dict]
    rows(resource, group, objects, now, include_object="Metadata", printer_columns=None) -> list[dict]
        # just the rows (watch events send a one-row Table per event)

Times are relative to `now` (a timezone-aware datetime); nothing here reads the clock.

Modules: cells (column helpers and shared formatters), the row functions of each family of kinds
(pods, core, workloads, configuration, uncommon), printers (columns and row function per
resource), customresources, descriptions (column docs) and render (the Table itself).
"""

from __future__ import annotations

from kwok.api.tables.customresources import custom_resource_columns
from kwok.api.tables.descriptions import swagger_doc
from kwok.api.tables.printers import PRINTERS
from kwok.api.tables.render import column_definitions, rows, table

__all__ = ["PRINTERS", "column_definitions", "custom_resource_columns", "rows", "swagger_doc", "table"]
