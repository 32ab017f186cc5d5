"""ResourceQuota controller: `status.hard` mirrors `spec.hard`, `status.used` counts what the
namespace holds (pods and their requests/limits, object counts, storage requests)."""

from __future__ import annotations

from typing import Any

from kwok.api.quantity import Quantity
from kwok.controlplane.controllers.base import Controller
from kwok.controlplane.controllers.pods import is_terminal
from kwok.controlplane.mergediff import merge_diff, replace_patch

COUNTED = {"services": ("v1", "services"), "configmaps": ("v1", "configmaps"), "secrets": ("v1", "secrets"),
           "persistentvolumeclaims": ("v1", "persistentvolumeclaims"),
           "replicationcontrollers": ("v1", "replicationcontrollers"), "resourcequotas": ("v1", "resourcequotas")}


def _container_sum(pods: list[dict[str, Any]], kind: str, resource: str) -> Quantity:
    total = Quantity("0")
    for pod in pods:
        for container in (pod.get("spec") or {}).get("containers") or ():
            value = ((container.get("resources") or {}).get(kind) or {}).get(resource)
            if value is None and kind == "requests":
                value = ((container.get("resources") or {}).get("limits") or {}).get(resource)
            if value is not None:
                total = total + Quantity(str(value))
    return total


def pod_usage(name: str, pods: list[dict[str, Any]]) -> str | None:
    live = [p for p in pods if not is_terminal(p)]
    if name in ("pods", "count/pods"):
        return str(len(live))
    for prefix, kind in (("requests.", "requests"), ("limits.", "limits"), ("", "requests")):
        if name.startswith(prefix) and name[len(prefix):] in ("cpu", "memory", "ephemeral-storage"):
            return str(_container_sum(live, kind, name[len(prefix):]))
    return None


class ResourceQuotaController(Controller):
    name = "resourcequota"
    component = "resourcequota-controller"

    def setup(self) -> None:
        self.quotas = self.ctx.informer("v1", "resourcequotas")
        self.pods = self.ctx.informer("v1", "pods")
        self.quotas.add_handler(lambda kind, obj, old: self.enqueue(obj))
        self.pods.add_handler(self._on_pod)
        self.api = self.client.resource("v1", "resourcequotas")

    def _on_pod(self, kind: str, pod: dict[str, Any], old: dict[str, Any] | None) -> None:
        if kind == "MODIFIED" and old is not None and (old.get("status") or {}).get("phase") == \
                (pod.get("status") or {}).get("phase") and old.get("spec") == pod.get("spec"):
            return
        ns = pod["metadata"].get("namespace")
        for key, quota in self.quotas.store.items():
            if quota["metadata"].get("namespace") == ns:
                self.queue.add(key)

    async def sync(self, key: str) -> None:
        quota = self.quotas.store.get(key)
        if quota is None:
            return
        ns = quota["metadata"].get("namespace")
        hard = dict((quota.get("spec") or {}).get("hard") or {})
        pods = [p for p in self.pods.store.values() if p["metadata"].get("namespace") == ns]
        used: dict[str, str] = {}
        for name in hard:
            value = pod_usage(name, pods)
            if value is None:
                plural = name.removeprefix("count/")
                if plural in COUNTED:
                    gv, res = COUNTED[plural]
                    value = str(len((await self.client.resource(gv, res).list(ns)).get("items") or []))
            if value is not None:
                used[name] = value
        status = {"hard": hard, "used": used}
        if merge_diff(quota.get("status"), status):
            await self.api.patch(quota["metadata"]["name"], {"status": replace_patch(quota.get("status"), status)},
                                 namespace=ns, subresource="status")
