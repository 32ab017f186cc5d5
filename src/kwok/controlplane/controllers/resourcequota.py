"""ResourceQuota controller: `status.hard` mirrors `spec.hard`, `status.used` counts what the
namespace holds: pods and what they request and limit (init containers and sidecars counted as
the scheduler counts them), and objects of any resource (`count/<resource>.<group>`).

Admission charges creations; this controller sees deletions, through the pods informer and a
watch of each other counted resource (the quota monitor's replenishment)."""

from __future__ import annotations

from typing import Any

from kwok.api.quantity import Quantity
from kwok.client import ApiError
from kwok.controlplane.controllers.base import Controller
from kwok.controlplane.controllers.pods import is_terminal
from kwok.controlplane.controllers.quotamonitor import QuotaMonitor
from kwok.controlplane.mergediff import merge_diff, replace_patch

# object counts that predate `count/<resource>` and the core objects they count
LEGACY_COUNTS = ("services", "configmaps", "secrets", "persistentvolumeclaims", "replicationcontrollers",
                 "resourcequotas")
_COMPUTE = ("cpu", "memory", "ephemeral-storage")
_POD_LEVEL = ("cpu", "memory")
_ZERO = Quantity("0")
Usage = dict[str, Quantity]


def _add(into: Usage, values: dict[str, Any] | None) -> None:
    for name, value in (values or {}).items():
        into[name] = into.get(name, _ZERO) + Quantity(str(value))


def _max(into: Usage, other: Usage) -> None:
    for name, value in other.items():
        if value > into.get(name, _ZERO):
            into[name] = value


def _container_values(container: dict[str, Any], kind: str) -> dict[str, Any]:
    resources = container.get("resources") or {}
    values = dict(resources.get(kind) or {})
    if kind == "requests":  # a limit without a request is the request, as the API server defaults it
        for name, value in (resources.get("limits") or {}).items():
            values.setdefault(name, value)
    return values


def pod_totals(pod: dict[str, Any], kind: str) -> Usage:
    """PodRequests / PodLimits: the containers and sidecars (restartable init containers) summed,
    or the largest init container with the sidecars started before it when that is more;
    pod-level resources win for cpu and memory; the overhead is added."""
    spec = pod.get("spec") or {}
    total: Usage = {}
    for container in spec.get("containers") or ():
        _add(total, _container_values(container, kind))
    sidecars: Usage = {}
    largest_init: Usage = {}
    for container in spec.get("initContainers") or ():
        values = _container_values(container, kind)
        if container.get("restartPolicy") == "Always":
            _add(total, values)
            _add(sidecars, values)
            effective = dict(sidecars)
        else:
            effective = dict(sidecars)
            _add(effective, values)
        _max(largest_init, effective)
    _max(total, largest_init)
    for name, value in ((spec.get("resources") or {}).get(kind) or {}).items():
        if name in _POD_LEVEL:
            total[name] = Quantity(str(value))
    for name, value in (spec.get("overhead") or {}).items():
        if kind == "requests" or name in total:  # overhead raises only the limits that are set
            total[name] = total.get(name, _ZERO) + Quantity(str(value))
    return total


def _pod_usage(pod: dict[str, Any]) -> Usage:
    """What one pod charges (PodUsageFunc)."""
    usage: Usage = {"pods": Quantity("1"), "count/pods": Quantity("1")}
    for name, value in pod_totals(pod, "requests").items():
        usage[f"requests.{name}"] = value
        if name in _COMPUTE:
            usage[name] = value
    for name, value in pod_totals(pod, "limits").items():
        usage[f"limits.{name}"] = value
    return usage


def _is_pod_resource(name: str) -> bool:
    return name in ("pods", "count/pods", *_COMPUTE) or name.startswith(("requests.", "limits.")) \
        and name != "requests.storage"


def pod_usage(name: str, pods: list[dict[str, Any]]) -> str | None:
    """The namespace's usage of `name` by its pods that have not finished, None when pods do not
    use that resource."""
    if not _is_pod_resource(name):
        return None
    total = _ZERO
    for pod in pods:
        if not is_terminal(pod):
            total = total + _pod_usage(pod).get(name, _ZERO)
    return str(total)


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
        pods = [p for p in self.pods.store.values() if p["metadata"].get("namespace") == ns]
        used: dict[str, str] = {}
        for name in hard:
            value = pod_usage(name, pods)
            if value is None and (counted := counted_resource(name)) is not None:
                value = await self._count(ns, *counted)
            if value is not None:
                used[name] = value
        status = {"hard": hard, "used": used}
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
