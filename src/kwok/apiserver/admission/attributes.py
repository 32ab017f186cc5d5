"""What webhooks and policies read about one admission request, each piece fetched at most once.

The Namespace's labels (for namespaceSelector and CEL's `namespaceObject`) and the other served
versions of the resource (for matchPolicy Equivalent) cost a store read or a schema scan: they are
looked up only when a webhook or a policy needs them, and then shared by all of them.
"""

from __future__ import annotations

import functools
from typing import Any

import orjson

from kwok.api.schema import get_schema
from kwok.apiserver.admission.matching import Selectors, Target, request_target
from kwok.apiserver.registry import AdmissionRequest, Lookup
from kwok.apiserver.versions import convert

Obj = dict[str, Any]
_UNSET: Any = object()


class Attributes:
    def __init__(self, req: AdmissionRequest, lookup: Lookup) -> None:
        self.req = req
        self.lookup = lookup
        self._namespace: Any = _UNSET
        self._equivalents: list[Target] | None = None

    async def namespace(self) -> Obj | None:
        """The request's Namespace object (None for cluster-scoped requests or a missing one)."""
        if self._namespace is _UNSET:
            name = self.req.namespace
            self._namespace = await self.lookup.get("", "namespaces", None, name) if name else None
        return self._namespace  # type: ignore[no-any-return]

    async def selected(self, selectors: Selectors) -> bool:
        if not selectors.object_matches(self.req):
            return False
        namespace = await self.namespace() if selectors.needs_namespace(self.req) else None
        return selectors.namespace_matches(self.req, namespace)

    async def equivalents(self) -> list[Target]:
        """The resource in every version it is served in (built-in from the schema, custom from its CRD)."""
        if self._equivalents is None:
            self._equivalents = await self._find_equivalents()
        return self._equivalents

    async def _find_equivalents(self) -> list[Target]:
        info = self.req.info
        builtin = _builtin_versions(info.group, info.plural)
        if builtin:
            return list(builtin)
        crd = await self.lookup.get("apiextensions.k8s.io", "customresourcedefinitions", None,
                                    f"{info.plural}.{info.group}")
        spec = (crd or {}).get("spec") or {}
        kind = (spec.get("names") or {}).get("kind", info.kind)
        return [Target(info.group, v["name"], info.plural, kind) for v in spec.get("versions") or ()
                if v.get("served")] or [request_target(self.req)]

    def in_version(self, obj: Obj | None, target: Target) -> Obj | None:
        """The object as a client of `target`'s version sees it (a copy; None stays None). A
        subresource's own kind (a Scale, a PodExecOptions) is the same in every version of its parent."""
        if obj is None or target == request_target(self.req) or not self._of_parent_kind(obj):
            return obj
        group_version = f"{target.group}/{target.version}" if target.group else target.version
        return convert(orjson.loads(orjson.dumps(obj)), group_version)

    def back_to_request(self, obj: Obj, target: Target) -> Obj:
        own = request_target(self.req)
        if target == own or not self._of_parent_kind(obj):
            return obj
        return convert(obj, f"{own.group}/{own.version}" if own.group else own.version)

    def _of_parent_kind(self, obj: Obj) -> bool:
        return obj.get("kind") in (None, "", self.req.info.kind)


def is_builtin(group: str, plural: str) -> bool:
    return bool(_builtin_versions(group, plural))


@functools.cache
def _builtin_versions(group: str, plural: str) -> tuple[Target, ...]:
    return tuple(Target(r.group, r.version, r.plural, r.kind) for r in get_schema().resources
                 if r.group == group and r.plural == plural)
