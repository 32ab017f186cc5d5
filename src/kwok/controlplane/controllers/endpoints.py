"""Endpoints and EndpointSlice controllers: a Service with a selector gets the IPs of its Running
pods (kwok's stages give them IPs), ready or not, in `Endpoints/<service>` and in EndpointSlices
labelled `kubernetes.io/service-name`."""

from __future__ import annotations

from typing import Any

from kwok.client import ApiError
from kwok.controlplane.controllers import endpoints_logic as logic
from kwok.controlplane.controllers.base import Controller
from kwok.controlplane.controllers.pods import controller_ref


class _ServiceController(Controller):
    workers = 2

    def setup(self) -> None:
        self.services = self.ctx.informer("v1", "services")
        self.pods = self.ctx.informer("v1", "pods")
        self.by_namespace: dict[str, dict[str, dict[str, Any]]] = {}
        self.services.add_handler(lambda kind, svc, old: self.enqueue(svc))
        self.pods.add_handler(self._on_pod)

    def _on_pod(self, kind: str, pod: dict[str, Any], old: dict[str, Any] | None) -> None:
        ns = pod["metadata"].get("namespace", "")
        if kind == "DELETED":
            self.by_namespace.get(ns, {}).pop(pod["metadata"]["name"], None)
        else:
            self.by_namespace.setdefault(ns, {})[pod["metadata"]["name"]] = pod
        for key, svc in self.services.store.items():
            if svc["metadata"].get("namespace") == ns and (logic.selects(svc, pod) or (old and logic.selects(svc, old))):
                self.queue.add(key)

    def namespace_pods(self, ns: str) -> list[dict[str, Any]]:
        return list(self.by_namespace.get(ns, {}).values())


class EndpointsController(_ServiceController):
    name = "endpoints"
    component = "endpoint-controller"

    async def sync(self, key: str) -> None:
        ns, name = key.split("/", 1)
        api = self.client.resource("v1", "endpoints")
        svc = self.services.store.get(key)
        if svc is None or not (svc.get("spec") or {}).get("selector"):
            return  # a Service without selector has user-managed Endpoints; the GC removes ours
        subsets = logic.endpoints_subsets(svc, self.namespace_pods(ns))
        try:
            current = await api.get(name, ns)
        except ApiError as err:
            if not err.is_not_found:
                raise
            current = None
        labels = dict(svc["metadata"].get("labels") or {})
        if current is None:
            await api.create({"apiVersion": "v1", "kind": "Endpoints",
                              "metadata": {"name": name, "namespace": ns, "labels": labels}, "subsets": subsets}, ns)
        elif (current.get("subsets") or []) != subsets or (current["metadata"].get("labels") or {}) != labels:
            current["subsets"] = subsets
            current["metadata"]["labels"] = labels
            await api.update(current, ns)


class EndpointSliceController(_ServiceController):
    name = "endpointslice"
    component = "endpointslice-controller"

    async def sync(self, key: str) -> None:
        ns, name = key.split("/", 1)
        api = self.client.resource("discovery.k8s.io/v1", "endpointslices")
        selector = f"{logic.SERVICE_NAME_LABEL}={name},{logic.MANAGED_BY_LABEL}={logic.MANAGED_BY}"
        existing = (await api.list(ns, label_selector=selector)).get("items") or []
        svc = self.services.store.get(key)
        if svc is None or not (svc.get("spec") or {}).get("selector"):
            for item in existing:
                await _delete(api, item)
            return
        wanted = logic.slice_groups(svc, self.namespace_pods(ns))
        for index, (ports, endpoints) in enumerate(wanted):
            body = {"addressType": "IPv4", "ports": ports, "endpoints": endpoints}
            if index < len(existing):
                current = existing[index]
                if {k: current.get(k) or [] for k in ("ports", "endpoints")} != {"ports": ports, "endpoints": endpoints}:
                    await api.update({**current, **body}, ns)
                continue
            labels = {**(svc["metadata"].get("labels") or {}), logic.SERVICE_NAME_LABEL: name,
                      logic.MANAGED_BY_LABEL: logic.MANAGED_BY}
            meta = {"generateName": f"{name}-", "namespace": ns, "labels": labels,
                    "ownerReferences": [controller_ref(svc, "Service", "v1")]}
            await api.create({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "metadata": meta, **body}, ns)
        for item in existing[len(wanted):]:
            await _delete(api, item)


async def _delete(api: Any, item: dict[str, Any]) -> None:
    try:
        await api.delete(item["metadata"]["name"], item["metadata"].get("namespace"))
    except ApiError as err:
        if not err.is_not_found:
            raise
