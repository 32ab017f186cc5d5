"""Pure helpers for the semantics tests: strategies on their own, and an in-memory Lookup."""

from __future__ import annotations

import copy
from typing import Any

from kwok.api.schema import get_schema
from kwok.apiserver.registry import AdmissionRequest, Cause, Lookup, RequestContext, Strategy, strategy_for

Obj = dict[str, Any]
NOW = "2026-01-02T03:04:05Z"


def strategy(group: str, plural: str) -> Strategy:
    info = next(r for r in get_schema().resources if r.group == group and r.plural == plural)
    return strategy_for(info)


def create(group: str, plural: str, obj: Obj, namespace: str | None = "default") -> tuple[Obj, list[Cause]]:
    """What the create flow does around storage: server fields, prepare, validate."""
    s = strategy(group, plural)
    obj = copy.deepcopy(obj)
    meta = obj.setdefault("metadata", {})
    if s.info.namespaced:
        meta.setdefault("namespace", namespace)
    meta.setdefault("uid", "0c7a5c2e-0000-4000-8000-000000000001")
    meta.setdefault("creationTimestamp", NOW)
    s.prepare_for_create(obj, RequestContext(namespace=namespace, now=NOW))
    return obj, s.validate_create(obj)


def update(group: str, plural: str, new: Obj, old: Obj) -> tuple[Obj, list[Cause]]:
    s = strategy(group, plural)
    new = copy.deepcopy(new)
    new["metadata"] = {**old["metadata"], **(new.get("metadata") or {})}
    s.prepare_for_update(new, old, RequestContext(now=NOW))
    return new, s.validate_update(new, old)


def messages(causes: list[Cause]) -> list[str]:
    return [f"{c.field}: {c.message}" for c in causes]


class MemoryLookup(Lookup):
    """Objects by (group, plural) for admission plugins."""

    def __init__(self, *objects: tuple[str, str, Obj]) -> None:
        self.objects: dict[tuple[str, str], list[Obj]] = {}
        self.status_writes: list[Obj] = []
        for group, plural, obj in objects:
            self.objects.setdefault((group, plural), []).append(copy.deepcopy(obj))

    async def get(self, group: str, plural: str, namespace: str | None, name: str) -> Obj | None:
        return next((o for o in self.objects.get((group, plural), [])
                     if o["metadata"]["name"] == name and o["metadata"].get("namespace") in (namespace, None)), None)

    async def list(self, group: str, plural: str, namespace: str | None) -> list[Obj]:
        return [o for o in self.objects.get((group, plural), [])
                if namespace is None or o["metadata"].get("namespace") == namespace]

    async def update_status(self, group: str, plural: str, obj: Obj) -> Obj:
        self.status_writes.append(obj)
        return obj


def admission_request(operation: str, group: str, plural: str, obj: Obj | None, namespace: str = "default",
                      old: Obj | None = None, dry_run: bool = False) -> AdmissionRequest:
    info = next(r for r in get_schema().resources if r.group == group and r.plural == plural)
    name = ((obj or old or {}).get("metadata") or {}).get("name", "")
    return AdmissionRequest(operation=operation, info=info, namespace=namespace if info.namespaced else None,
                            name=name, obj=obj, old=old, ctx=RequestContext(namespace=namespace, now=NOW,
                                                                            dry_run=dry_run))


def pod(name: str = "p", *containers: Obj, **spec: Any) -> Obj:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": list(containers) or [{"name": "c", "image": "nginx"}], **spec}}
