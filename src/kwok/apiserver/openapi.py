"""/openapi/v3 serving: the root index and one document per group-version, encoded once.

kwok.api.openapi generates the documents (built-in schemas, CRD schemas); this module caches the
encoded bytes and their hash. Built-in group-versions never change within a process; a
group-version with custom resources is rebuilt when the catalog changes (a CRD came or went).
Documents are served under `?hash=<sha512>` with an ETag and `Cache-Control: public, immutable`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import orjson

from kwok.api import openapi as documents
from kwok.apiserver.catalog import Catalog
from kwok.apiserver.storage import Store

Obj = dict[str, Any]
_CRDS = "apiextensions.k8s.io/customresourcedefinitions"


Document = Callable[[], tuple[bytes, str]]


class OpenAPI:
    def __init__(self, catalog: Catalog, store: Store,
                 aggregated: dict[tuple[str, str], Document] | None = None) -> None:
        self.catalog = catalog
        self.store = store
        # group-versions a real cluster serves through the aggregation layer (metrics.k8s.io)
        self.aggregated = aggregated or {}
        self._builtin: dict[tuple[str, str], tuple[bytes, str]] = {}
        self._custom: dict[tuple[str, str], tuple[bytes, str]] = {}
        self._generation = -1
        # CRD-shaped descriptions of kinds served like custom resources without a stored CRD
        # (apiregistration.k8s.io's APIService, kwok.apiserver.apiservices)
        self.described: list[Obj] = []

    def group_versions(self) -> list[tuple[str, str]]:
        served = [(g, v) for g, versions in self.catalog.group_versions() for v in versions]
        return served + [gv for gv in self.aggregated if gv not in served]

    def root(self) -> bytes:
        gvs = [f"{g}/{v}" if g else v for g, v in self.group_versions()]

        def hash_of(gv: str) -> str:
            group, _, version = gv.rpartition("/")
            found = self.document(group, version)
            return found[1] if found else ""

        return orjson.dumps(documents.openapi_v3_root(gvs, hash_of))

    def document(self, group: str, version: str) -> tuple[bytes, str] | None:
        served = self.catalog.in_group_version(group, version)
        if not served:
            aggregated = self.aggregated.get((group, version))
            return aggregated() if aggregated is not None else None
        key = (group, version)
        if not any(s.custom for s in served):
            if key not in self._builtin:
                self._builtin[key] = documents.encode(documents.group_version_document(group, version))
            return self._builtin[key]
        if self._generation != self.catalog.generation:
            self._custom.clear()
            self._generation = self.catalog.generation
        if key not in self._custom:
            builtins = [s.info for s in served if not s.custom]
            doc = documents.openapi_v3_group_version(group, version, builtins, self._crds(group))
            self._custom[key] = documents.encode(doc)
        return self._custom[key]

    def all_documents(self) -> Iterator[Obj]:
        """The document of every served group-version, decoded (what /openapi/v2 is built from)."""
        for group, version in self.group_versions():
            found = self.document(group, version)
            if found is not None:
                yield orjson.loads(found[0])

    def _crds(self, group: str) -> list[Obj]:
        _rv, entries = self.store.list_entries(_CRDS)
        crds = [orjson.loads(e.data) for e in entries] + self.described
        return [c for c in crds if (c.get("spec") or {}).get("group") == group]

    def lookup_path(self, path: str) -> tuple[bytes, str] | None:
        parts = path.strip("/").split("/")
        if len(parts) == 2 and parts[0] == "api":
            return self.document("", parts[1])
        if len(parts) == 3 and parts[0] == "apis":
            return self.document(parts[1], parts[2])
        return None
