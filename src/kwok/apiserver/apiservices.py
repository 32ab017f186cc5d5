"""apiregistration.k8s.io/v1 APIService: kube-aggregator's registry of the served group versions.

A real API server lists one APIService per group version it serves itself ("Local", always
available; `kubectl get apiservices`), adds one for each CRD group version (its
crd-autoregistration controller), and proxies the group versions of APIServices that name a
Service to that Service. Here the built-in and CRD group versions are registered the same way. An
APIService that names a Service (a metrics adapter's manifest, say) is stored and reported
unavailable, with the aggregator's FailedDiscoveryCheck: no pod of a kwok cluster runs, so nothing
behind a Service can answer. Its group version is not served, and the built-in metrics.k8s.io
keeps serving `kubectl top` whatever its APIService says.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import orjson

from kwok.api import errors
from kwok.api.schema import ResourceInfo
from kwok.apiserver.catalog import Catalog
from kwok.apiserver.crd import CustomResourceStrategy
from kwok.apiserver.registry import Cause, RequestContext
from kwok.apiserver.strategies.fielderrors import invalid, invalid_rendered, required
from kwok.apiserver.strategies.objectmeta import dns1035_label, dns1123_subdomain, path_segment_name

log = logging.getLogger("kwok.apiserver")
Obj = dict[str, Any]

GROUP, VERSION, PLURAL, KIND = "apiregistration.k8s.io", "v1", "apiservices", "APIService"
_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
INFO = ResourceInfo(group=GROUP, version=VERSION, kind=KIND, plural=PLURAL, singular="apiservice",
                    namespaced=False, list_kind="APIServiceList", verbs=_VERBS, categories=("api-extensions",),
                    subresources=("status",))

_INT32 = {"type": "integer", "format": "int32"}
SCHEMA: Obj = {
    "type": "object",
    "description": "APIService represents a server for a particular GroupVersion.",
    "properties": {
        "apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"},
        "spec": {
            "type": "object",
            "description": "Spec contains information for locating and communicating with a server",
            "required": ["groupPriorityMinimum", "versionPriority"],
            "properties": {
                "caBundle": {"type": "string", "format": "byte"},
                "group": {"type": "string", "description": "Group is the API group name this server hosts"},
                "groupPriorityMinimum": _INT32,
                "insecureSkipTLSVerify": {"type": "boolean"},
                "service": {"type": "object", "properties": {
                    "name": {"type": "string"}, "namespace": {"type": "string"},
                    "port": {**_INT32, "default": 443}}},
                "version": {"type": "string", "description": "Version is the API version this server hosts"},
                "versionPriority": _INT32,
            },
        },
        "status": {
            "type": "object",
            "properties": {"conditions": {
                "type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"],
                "items": {"type": "object", "required": ["type", "status"], "properties": {
                    "lastTransitionTime": {"type": "string", "format": "date-time"},
                    "message": {"type": "string"}, "reason": {"type": "string"},
                    "status": {"type": "string"}, "type": {"type": "string"}}}}},
        },
    },
}
_VERSION_DOC: Obj = {"name": VERSION, "served": True, "storage": True, "schema": {"openAPIV3Schema": SCHEMA},
                     "subresources": {"status": {}}}


def availability(obj: Obj, now: str) -> Obj:
    """The status the availability controller would write for this spec."""
    spec = obj.get("spec") or {}
    service = spec.get("service")
    if not service:
        condition = {"type": "Available", "status": "True", "lastTransitionTime": now, "reason": "Local",
                     "message": "Local APIServices are always available"}
    else:
        url = (f"https://{service.get('name', '')}.{service.get('namespace', '')}.svc:{service.get('port', 443)}"
               f"/apis/{spec.get('group', '')}/{spec.get('version', '')}")
        condition = {"type": "Available", "status": "False", "lastTransitionTime": now,
                     "reason": "FailedDiscoveryCheck",
                     "message": f"failing or missing response from {url}: no container runs in a kwok "
                                "cluster, so nothing behind the service answers"}
    return {"conditions": [condition]}


class APIServiceStrategy(CustomResourceStrategy):
    name_validator = staticmethod(path_segment_name)    # "v1." names the core group version

    def __init__(self) -> None:
        super().__init__(INFO, _VERSION_DOC)

    def prepare_create(self, obj: Obj, ctx: RequestContext) -> None:
        obj["status"] = availability(obj, ctx.now)

    def _prepare_for_update(self, new: Obj, old: Obj, ctx: RequestContext) -> None:
        super()._prepare_for_update(new, old, ctx)
        if (new.get("spec") or {}).get("service") != (old.get("spec") or {}).get("service"):
            new["status"] = availability(new, ctx.now)

    def validate_spec(self, obj: Obj) -> list[Cause]:
        """kube-aggregator's ValidateAPIService."""
        causes = super().validate_spec(obj)
        spec = obj.get("spec") or {}
        group, version = str(spec.get("group") or ""), str(spec.get("version") or "")
        name, wanted = (obj.get("metadata") or {}).get("name"), f"{version}.{group}"
        if name != wanted:
            causes.append(invalid("metadata.name", name, f'must be `spec.version+"."+spec.group`: "{wanted}"'))
        if not group and version != "v1":
            causes.append(required("spec.group", "only v1 may have an empty group and it better be legacy kube"))
        if group:
            causes += [invalid("spec.group", group, e) for e in dns1123_subdomain(group)]
        causes += [invalid("spec.version", version, e) for e in dns1035_label(version)]
        for field, top in (("groupPriorityMinimum", 20000), ("versionPriority", 1000)):
            value = spec.get(field)
            if isinstance(value, int) and not 0 < value <= top:
                causes.append(invalid(f"spec.{field}", value, f"must be positive and less than {top}"))
        service = spec.get("service")
        if not service:
            if spec.get("caBundle"):
                causes.append(invalid_rendered("spec.caBundle", '"(bytes)"', "local APIServices may not have a caBundle"))
            if spec.get("insecureSkipTLSVerify"):
                causes.append(invalid("spec.insecureSkipTLSVerify", True,
                                      "local APIServices may not have insecureSkipTLSVerify"))
            return causes
        causes += [required(f"spec.service.{key}") for key in ("namespace", "name") if not service.get(key)]
        return causes


# What the OpenAPI documents describe it from, as they describe a custom resource from its CRD.
DESCRIPTION: Obj = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": f"{PLURAL}.{GROUP}"},
    "spec": {"group": GROUP, "scope": "Cluster", "versions": [_VERSION_DOC],
             "names": {"kind": KIND, "plural": PLURAL, "singular": "apiservice", "listKind": "APIServiceList",
                       "categories": ["api-extensions"]}},
}


def register(catalog: Catalog) -> None:
    """Serve apiregistration.k8s.io/v1 apiservices (before the store is loaded, so stored ones are indexed)."""
    catalog.add(INFO, APIServiceStrategy(), custom=True)


AUTOMANAGED = "kube-aggregator.kubernetes.io/automanaged"   # "onstart": built in; "true": a CRD's


def local(group: str, version: str, group_priority: int, version_priority: int, automanaged: str = "onstart") -> Obj:
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": KIND,
            "metadata": {"name": f"{version}.{group}", "labels": {AUTOMANAGED: automanaged}},
            "spec": {"group": group, "version": version, "groupPriorityMinimum": group_priority,
                     "versionPriority": version_priority}}


def served_group_versions(catalog: Catalog, extra: tuple[tuple[str, str], ...] = ()) -> list[tuple[str, str, int, int, str]]:
    """(group, version, groupPriorityMinimum, versionPriority, automanaged) of every group version
    served here, in discovery order: the first group ranks highest, as in the aggregator's table."""
    out = []
    groups = [*catalog.group_versions(), *((g, [v]) for g, v in extra)]
    for index, (group, versions) in enumerate(groups):
        for rank, version in enumerate(versions):
            custom = group != GROUP and any(s.custom for s in catalog.in_group_version(group, version))
            out.append((group, version, max(18000 - 100 * index, 1), max(15 - rank, 1),
                        "true" if custom else "onstart"))
    return out


async def sync(flow: Any, catalog: Catalog, ctx: RequestContext, extra: tuple[tuple[str, str], ...] = ()) -> None:
    """Local APIServices for exactly the group versions served (CRDs come and go): the missing
    ones created, the automanaged ones of group versions no longer served deleted (as the
    aggregator's autoregistration: the user's own APIServices are left alone)."""
    served = catalog.get(GROUP, VERSION, PLURAL)
    if served is None:
        return
    rows = served_group_versions(catalog, extra)
    wanted = {f"{version}.{group}" for group, version, *_rest in rows}

    async def create(obj: Obj) -> None:
        try:
            await flow.create(served, obj, ctx)
        except errors.ApiError as err:
            log.warning("registering APIService %s: %s", obj["metadata"]["name"], err)

    # together, so that their durable writes share a commit
    await asyncio.gather(*(create(local(*row)) for row in rows
                           if flow.store.get(served.key, "", f"{row[1]}.{row[0]}") is None))
    _rv, entries = flow.store.list_entries(served.key)
    for entry in list(entries):
        if entry.name in wanted:
            continue
        obj = orjson.loads(entry.data)
        if AUTOMANAGED not in ((obj.get("metadata") or {}).get("labels") or {}):
            continue
        try:
            await flow.delete(served, "", entry.name, {}, ctx)
        except errors.ApiError as err:
            if err.code != 404:
                log.warning("unregistering APIService %s: %s", entry.name, err)


class Registrar:
    """Keeps the Local APIServices in step with the catalog (a catalog listener: one sync at a time,
    another queued when the catalog changes meanwhile)."""

    def __init__(self, flow: Any, catalog: Catalog, ctx_factory: Callable[[], RequestContext],
                 extra: tuple[tuple[str, str], ...] = ()) -> None:
        self.flow, self.catalog, self.ctx_factory, self.extra = flow, catalog, ctx_factory, extra
        self._task: asyncio.Task[None] | None = None
        self._again = False

    def __call__(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return      # start-up, before the loop: the first sync covers it
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = loop.create_task(self._run())

    async def _run(self) -> None:
        while True:
            self._again = False
            try:
                await sync(self.flow, self.catalog, self.ctx_factory(), self.extra)
            except Exception:  # noqa: BLE001 - the next catalog change tries again
                log.exception("syncing APIServices")
            if not self._again:
                return
