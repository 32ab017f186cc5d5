"""ResourceQuota controller: `status.hard` mirrors `spec.hard`, `status.used` counts what the
namespace holds: pods and what they request and limit (`kwok.api.podresources`, the totals the
scheduler and quota admission use too), and objects of any resource (`count/<resource>.<group>`).

Admission charges creations; this controller sees deletions, through the pods informer and a
watch of each other counted resource (the quota monitor's replenishment)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from kwok.api.podresources import is_pod_quota_resource, pod_matches_quota_scopes, pod_quota_usage
from kwok.api.quantity import Quantity
from kwok.client import ApiError
from kwok.controlplane.controllers.base import Controller
from kwok.controlplane.controllers.quotamonitor import QuotaMonitor
from kwok.controlplane.mergediff import merge_diff, replace_patch

# object counts that predate `count/<resource>` and the core objects they count
LEGACY_COUNTS = ("services", "configmaps", "secrets", "persistentvolumeclaims", "replicationcontrollers",
                 "resourcequotas")
_ZERO = Quantity("0")


def pods_usage(names: list[str], pods: list[dict[str, Any]], now: datetime | None = None) -> dict[str, str]:
    """The namespace's usage, by its pods, of each of `names` that pods use (PodUsageFunc summed:
    `count/pods` counts every stored pod, the rest only pods still running)."""
    wanted = [name for name in names if is_pod_quota_resource(name)]
    if not wanted:
        return {}
    totals = dict.fromkeys(wanted, _ZERO)
    for pod in pods:
        usage = pod_quota_usage(pod, now)
        for name in wanted:
            amount = usage.get(name)
            if amount is not None:
                totals[name] = totals[name] + amount
    return {name: str(total) for name, total in totals.items()}


def pod_usage(name: str, pods: list[dict[str, Any]], now: datetime | None = None) -> str | None:
    """The namespace's usage of `name` by its pods, None when pods do not use that resource."""
    return pods_usage([name], pods, now).get(name)


def counted_resource(name: str) -> tuple[str, str] | None:
    """(group, plural) of an object count: `count/<plural>[.<group>]`, or a legacy name."""
    if name in LEGACY_COUNTS:
        return "", name
    if not name.startswith("count/") or name == "count/pods":
        return None
    plural, _, group = name[len("count/"):].partition(".")
    return group, plural


class ResourceQuotaController(Controller):
    name = "resourcequota"
    component = "resourcequota-controller"

    def setup(self) -> None:
        self.quotas = self.ctx.informer("v1", "resourcequotas")
        self.pods = self.ctx.informer("v1", "pods")
        self.quotas.add_handler(lambda kind, obj, old: self.enqueue(obj))
        self.pods.add_handler(self._on_pod)
        self.api = self.client.resource("v1", "resourcequotas")
        self._versions: dict[str, str | None] = {"": "v1"}
        self.monitors = QuotaMonitor(self.client, self._replenish)

    def _replenish(self, namespace: str | None) -> None:
        """An object counted by quotas went away: recount the namespace's quotas (None: all)."""
        for key, quota in self.quotas.store.items():
            if namespace is None or quota["metadata"].get("namespace") == namespace:
                self.queue.add(key)

    async def run(self) -> None:
        try:
            await super().run()
        finally:
            await self.monitors.stop()

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
        # a scoped quota (BestEffort, NotTerminating, PriorityClass, ...) measures only the pods it selects
        pods = [p for p in self.pods.store.values()
                if p["metadata"].get("namespace") == ns and pod_matches_quota_scopes(quota, p)]
        used = pods_usage(list(hard), pods, datetime.fromtimestamp(self.ctx.now(), UTC))
        for name in hard:
            if name not in used and (counted := counted_resource(name)) is not None:
                value = await self._count(ns, *counted)
                if value is not None:
                    used[name] = value
        status = {"hard": hard, "used": {name: used[name] for name in hard if name in used}}
        if merge_diff(quota.get("status"), status):
            await self.api.patch(quota["metadata"]["name"], {"status": replace_patch(quota.get("status"), status)},
                                 namespace=ns, subresource="status")

    async def _count(self, ns: str, group: str, plural: str) -> str | None:
        """How many objects of the resource the namespace holds; None for a resource the server
        does not serve (not counted, as the real controller has no evaluator for it)."""
        group_version = await self._group_version(group)
        if group_version is None:
            return None
        try:
            found = await self.client.resource(group_version, plural).list(ns)
        except ApiError as err:
            if err.is_not_found:
                return None
            raise
        self.monitors.watch(group_version, plural)
        return str(len(found.get("items") or []))

    async def _group_version(self, group: str) -> str | None:
        if group not in self._versions:
            try:
                found = await self.client.request("GET", f"/apis/{group}")
            except ApiError as err:
                if err.is_not_found:
                    return None
                raise
            self._versions[group] = ((found or {}).get("preferredVersion") or {}).get("groupVersion")
        return self._versions[group]
