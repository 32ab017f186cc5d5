"""Discovery documents, built from the catalog and cached until a resource is added or removed.

Legacy: /api (APIVersions), /apis (APIGroupList), /apis/<g> (APIGroup), /api/v1 and /apis/<g>/<v>
(APIResourceList, with `pods/eviction`-style subresource entries). Aggregated v2: /api and /apis
answer an APIGroupDiscoveryList when the Accept header asks for it; kubectl needs the exact
Content-Type `application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList`.

Groups a real cluster serves through the aggregation layer (metrics.k8s.io) are given as
`aggregated_apis`; they come last, as their low APIService group priority places them.
"""

from __future__ import annotations

from typing import Any

import orjson

from kwok.api.schema import ResourceInfo, SubresourceInfo
from kwok.apiserver.catalog import Catalog

Obj = dict[str, Any]
AGGREGATED_V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
AGGREGATED_V2BETA1 = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"


def wants_aggregated(accept: str) -> str | None:
    """The aggregated media type the client prefers, or None for legacy discovery."""
    for part in accept.split(","):
        text = part.replace(" ", "")
        if "as=APIGroupDiscoveryList" in text and "g=apidiscovery.k8s.io" in text:
            return AGGREGATED_V2 if "v=v2;" in text + ";" and "v=v2beta1" not in text else AGGREGATED_V2BETA1
        if text.startswith("application/json") or text.startswith("*/*"):
            return None
    return None


class Discovery:
    def __init__(self, catalog: Catalog, aggregated_apis: tuple[ResourceInfo, ...] = ()) -> None:
        self.catalog = catalog
        self.aggregated_apis = aggregated_apis
        self._cache: dict[tuple[Any, ...], bytes] = {}
        self._generation = -1

    def _cached(self, key: tuple[Any, ...], build: Any) -> bytes:
        if self._generation != self.catalog.generation:
            self._cache.clear()
            self._generation = self.catalog.generation
        data = self._cache.get(key)
        if data is None:
            data = self._cache[key] = orjson.dumps(build())
        return data

    def _group_versions(self) -> list[tuple[str, list[str]]]:
        out = self.catalog.group_versions()
        groups = dict(out)
        for info in self.aggregated_apis:
            versions = groups.get(info.group)
            if versions is None:
                versions = groups[info.group] = []
                out.append((info.group, versions))
            if info.version not in versions:
                versions.append(info.version)
        return out

    def _resources(self, group: str, version: str) -> list[ResourceInfo]:
        served = [s.info for s in self.catalog.in_group_version(group, version)]
        return served + [i for i in self.aggregated_apis if (i.group, i.version) == (group, version)]

    # ------------------------------------------------------------------ legacy
    def api_versions(self, server_address: str) -> bytes:
        return self._cached(("api", server_address), lambda: {
            "kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]})

    def group_list(self) -> bytes:
        return self._cached(("apis",), lambda: {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
            self._group(g, vs) for g, vs in self._group_versions() if g]})

    def group(self, name: str) -> bytes | None:
        found = dict(self._group_versions()).get(name) if name else None
        if not found:
            return None
        return self._cached(("group", name), lambda: {"kind": "APIGroup", "apiVersion": "v1",
                                                       **self._group(name, found)})

    def _group(self, group: str, versions: list[str]) -> Obj:
        gvs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
        return {"name": group, "versions": gvs, "preferredVersion": gvs[0]}

    def resource_list(self, group: str, version: str) -> bytes | None:
        served = self._resources(group, version)
        if not served:
            return None
        gv = f"{group}/{version}" if group else version
        return self._cached(("resources", group, version), lambda: {
            "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv,
            "resources": [r for s in served for r in _legacy_entries(s)]})

    # -------------------------------------------------------------- aggregated
    def aggregated(self, legacy_core: bool, media_type: str) -> bytes:
        return self._cached(("aggregated", legacy_core, media_type), lambda: self._aggregated(legacy_core, media_type))

    def _aggregated(self, legacy_core: bool, media_type: str) -> Obj:
        items = []
        for group, versions in self._group_versions():
            if bool(group) == legacy_core:
                continue
            items.append({"metadata": {"name": group}, "versions": [
                {"version": v, "resources": [_aggregated_entry(s) for s in self._resources(group, v)],
                 "freshness": "Current"} for v in versions]})
        version = "v2beta1" if media_type == AGGREGATED_V2BETA1 else "v2"
        return {"kind": "APIGroupDiscoveryList", "apiVersion": f"apidiscovery.k8s.io/{version}",
                "metadata": {}, "items": items}


def _legacy_entries(info: ResourceInfo) -> list[Obj]:
    main: Obj = {"name": info.plural, "singularName": info.singular, "namespaced": info.namespaced,
                 "kind": info.kind, "verbs": list(info.verbs)}
    if info.short_names:
        main["shortNames"] = list(info.short_names)
    if info.categories:
        main["categories"] = list(info.categories)
    out = [main]
    for sub in _subresources(info):
        entry: Obj = {"name": f"{info.plural}/{sub.name}", "singularName": "", "namespaced": info.namespaced}
        if (sub.group, sub.version) != (info.group, info.version):
            entry["group"], entry["version"] = sub.group, sub.version
        entry["kind"] = sub.kind
        entry["verbs"] = list(sub.verbs)
        out.append(entry)
    return out


def _aggregated_entry(info: ResourceInfo) -> Obj:
    entry: Obj = {"resource": info.plural,
                  "responseKind": {"group": info.group, "version": info.version, "kind": info.kind},
                  "scope": "Namespaced" if info.namespaced else "Cluster", "singularResource": info.singular,
                  "verbs": list(info.verbs)}
    if info.short_names:
        entry["shortNames"] = list(info.short_names)
    if info.categories:
        entry["categories"] = list(info.categories)
    subs = [{"subresource": s.name, "responseKind": {"group": s.group, "version": s.version, "kind": s.kind},
             "verbs": list(s.verbs)} for s in _subresources(info)]
    if subs:
        entry["subresources"] = subs
    return entry


def _subresources(info: ResourceInfo) -> list[SubresourceInfo]:
    details = {d.name: d for d in info.subresource_details}
    out = []
    for name in info.subresources:
        detail = details.get(name)
        if detail is None:
            kind = "Scale" if name == "scale" else info.kind
            group, version = ("autoscaling", "v1") if name == "scale" else (info.group, info.version)
            verbs = ("get", "patch", "update")
            detail = SubresourceInfo(name, group, version, kind, verbs)
        out.append(detail)
    return out
