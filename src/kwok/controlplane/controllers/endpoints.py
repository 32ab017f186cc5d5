"""Endpoints and EndpointSlice controllers: a Service with a selector gets the IPs of its Running
pods (kwok's stages give them IPs), ready or not, in `Endpoints/<service>` and in EndpointSlices
labelled `kubernetes.io/service-name`."""

from __future__ import annotations

import logging
from typing import Any

from kwok.client import ApiError
from kwok.controlplane.controllers import endpoints_logic as logic
from kwok.controlplane.controllers.base import Controller
from kwok.controlplane.controllers.pods import controller_ref

log = logging.getLogger("kwok.controlplane.controllers")
LEADER_ANNOTATION = "control-plane.alpha.kubernetes.io/leader"


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

    async def run(self) -> None:
        await self._queue_leftovers()
        await super().run()

    async def _queue_leftovers(self) -> None:
        """Endpoints whose Service went while the controller was away are deleted too
        (checkLeftoverEndpoints); the leader-election lock objects of old components are kept."""
        try:
            found = (await self.client.resource("v1", "endpoints").list()).get("items") or []
        except ApiError as err:
            log.warning("endpoints: listing leftover Endpoints failed: %s", err.message)
            return
        for item in found:
            if LEADER_ANNOTATION not in (item["metadata"].get("annotations") or {}):
                self.queue.add(f"{item['metadata'].get('namespace')}/{item['metadata']['name']}")

    async def sync(self, key: str) -> None:
        ns, name = key.split("/", 1)
        api = self.client.resource("v1", "endpoints")
        svc = self.services.store.get(key)
        if svc is None:
            await _delete(api, {"metadata": {"name": name, "namespace": ns}})  # the Service went: its Endpoints go
            return
        if not (svc.get("spec") or {}).get("selector"):
            return  # a Service without selector has user-managed Endpoints
        subsets = logic.endpoints_subsets(svc, self.namespace_pods(ns))
        try:
            current = await api.get(name, ns)
        except ApiError as err:
            if not err.is_not_found:
                raise
            current = None
        labels = logic.labels_for(svc)
        annotations = dict((current or {}).get("metadata", {}).get("annotations") or {})
        annotations.pop(logic.OVER_CAPACITY_ANNOTATION, None)
        if logic.truncate(subsets):
            annotations[logic.OVER_CAPACITY_ANNOTATION] = "truncated"
        if current is None:
            meta = {"name": name, "namespace": ns, "labels": labels, **({"annotations": annotations} if annotations else {})}
            await api.create({"apiVersion": "v1", "kind": "Endpoints", "metadata": meta, "subsets": subsets}, ns)
        elif (current.get("subsets") or []) != subsets or (current["metadata"].get("labels") or {}) != labels \
                or (current["metadata"].get("annotations") or {}) != annotations:
            current["subsets"] = subsets
            current["metadata"]["labels"] = labels
            current["metadata"]["annotations"] = annotations or None
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
                labels = self._labels(svc)
                if {k: current.get(k) or [] for k in ("ports", "endpoints")} != {"ports": ports, "endpoints": endpoints} \
                        or current["metadata"].get("labels") != labels:
                    current = {**current, "metadata": {**current["metadata"], "labels": labels}}
                    await api.update({**current, **body}, ns)
                continue
            labels = self._labels(svc)
            meta = {"generateName": f"{name}-", "namespace": ns, "labels": labels,
                    "ownerReferences": [controller_ref(svc, "Service", "v1")]}
            await api.create({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "metadata": meta, **body}, ns)
        for item in existing[len(wanted):]:
            await _delete(api, item)


    @staticmethod
    def _labels(svc: dict[str, Any]) -> dict[str, str]:
        """The Service's labels but the reserved ones, the headless mark, and the slice's owner."""
        labels = {k: v for k, v in logic.labels_for(svc).items()
                  if k not in (logic.SERVICE_NAME_LABEL, logic.MANAGED_BY_LABEL)}
        return {**labels, logic.SERVICE_NAME_LABEL: svc["metadata"]["name"], logic.MANAGED_BY_LABEL: logic.MANAGED_BY}


async def _delete(api: Any, item: dict[str, Any]) -> None:
    try:
        await api.delete(item["metadata"]["name"], item["metadata"].get("namespace"))
    except ApiError as err:
        if not err.is_not_found:
            raise
