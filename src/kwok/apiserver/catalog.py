"""The served resources: built-ins from the schema plus custom resources registered at run time.

crd.py calls `add`/`remove` when a CustomResourceDefinition becomes established or goes away;
discovery and OpenAPI read `generation` to know when their cached documents are stale. Objects are
stored under "group/plural", shared by every version of a resource.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from kwok.api.schema import ResourceInfo, get_schema
from kwok.apiserver.registry import Strategy, strategy_for


@dataclass(frozen=True)
class Served:
    info: ResourceInfo
    strategy: Strategy
    custom: bool = False
    stored: bool = True            # False for virtual kinds (reviews, bindings): create-only, nothing kept
    printer_columns: tuple[dict[str, Any], ...] | None = None   # a CRD version's additionalPrinterColumns

    @functools.cached_property
    def key(self) -> str:
        return storage_key(self.info.group, self.info.plural)


def storage_key(group: str, plural: str) -> str:
    return f"{group}/{plural}"


class Catalog:
    def __init__(self) -> None:
        self._by_plural: dict[tuple[str, str, str], Served] = {}
        self._by_kind: dict[tuple[str, str, str], Served] = {}
        self._order: list[tuple[str, str, str]] = []
        self.generation = 0
        self._versions: dict[str, int] = {}
        self._versions_generation = -1
        self.listeners: list[Callable[[], None]] = []

    @classmethod
    def builtin(cls) -> Catalog:
        catalog = cls()
        for info in get_schema().resources:
            stored = "list" in info.verbs or "get" in info.verbs
            catalog.add(info, strategy_for(info), stored=stored)
        return catalog

    def add(self, info: ResourceInfo, strategy: Strategy | None = None, *, custom: bool = False,
            stored: bool = True, printer_columns: list[dict[str, Any]] | None = None) -> Served:
        """Serve a resource (again): crd.py calls this for each served version of a CRD."""
        key = (info.group, info.version, info.plural)
        columns = tuple(printer_columns) if printer_columns is not None else None
        served = Served(info, strategy or strategy_for(info), custom, stored, columns)
        if key not in self._by_plural:
            self._order.append(key)
        self._by_plural[key] = served
        self._by_kind[(info.group, info.version, info.kind)] = served
        self._changed()
        return served

    def remove(self, group: str, version: str, plural: str) -> None:
        served = self._by_plural.pop((group, version, plural), None)
        if served is None:
            return
        self._order.remove((group, version, plural))
        self._by_kind.pop((group, version, served.info.kind), None)
        self._changed()

    def _changed(self) -> None:
        self.generation += 1
        for listener in self.listeners:
            listener()

    def get(self, group: str, version: str, plural: str) -> Served | None:
        return self._by_plural.get((group, version, plural))

    def for_kind(self, group: str, version: str, kind: str) -> Served | None:
        return self._by_kind.get((group, version, kind))

    def __iter__(self) -> Iterator[Served]:
        return (self._by_plural[k] for k in self._order)

    def group_versions(self) -> list[tuple[str, list[str]]]:
        """Served groups with their versions in discovery order (core first, preferred version first)."""
        order: dict[str, list[str]] = {}
        for group, version, _plural in self._order:
            versions = order.setdefault(group, [])
            if version not in versions:
                versions.append(version)
        return list(order.items())

    def in_group_version(self, group: str, version: str) -> list[Served]:
        return [s for s in self if s.info.group == group and s.info.version == version]

    def versions_of(self, key: str) -> int:
        """How many served versions share a storage key (objects are stored once for all of them)."""
        if self._versions_generation != self.generation:
            counts: dict[str, int] = {}
            for served in self:
                counts[served.key] = counts.get(served.key, 0) + 1
            self._versions, self._versions_generation = counts, self.generation
        return self._versions.get(key, 0)

    def storage_keys(self) -> set[str]:
        return {s.key for s in self if s.stored}
