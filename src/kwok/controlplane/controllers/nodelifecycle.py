"""Node lifecycle: marks silent nodes Unknown and keeps the condition taints (every
`--node-monitor-period`), and the taint-eviction controller, which deletes pods from nodes with
NoExecute taints once their tolerations run out."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from kwok.client import ApiError, object_key
from kwok.controlplane.controllers import nodelifecycle_logic as logic
from kwok.controlplane.controllers.base import Controller
from kwok.controlplane.timefmt import rfc3339

log = logging.getLogger("kwok.controlplane.controllers.nodelifecycle")
LEASE_NAMESPACE = "kube-node-lease"


class NodeLifecycleController(Controller):
    name = "node-lifecycle"
    component = "node-controller"
    workers = 4

    def setup(self) -> None:
        self.nodes = self.ctx.informer("v1", "nodes")
        self.leases = self.ctx.informer("coordination.k8s.io/v1", "leases")
        self.pods = self.ctx.informer("v1", "pods")
        self.nodes.add_handler(self._on_node)
        self.on_node = PodsByNode()
        self.pods.add_handler(self.on_node.on_event)
        self.api = self.client.resource("v1", "nodes")
        self.pod_api = self.client.resource("v1", "pods")
        options = self.ctx.options
        self.period = getattr(options, "node_monitor_period", 5.0)
        self.grace = getattr(options, "node_monitor_grace_period", 50.0)
        self.startup_grace = getattr(options, "node_startup_grace_period", 60.0)
        # node -> (the Node and Lease objects last synced, the time until which they need no look):
        # the monitor passes over thousands of healthy nodes without a sync each. The informer
        # replaces an object on every change, so identity stands for "unchanged".
        self._quiet_until: dict[str, tuple[dict[str, Any], dict[str, Any] | None, float]] = {}

    def _on_node(self, kind: str, node: dict[str, Any], old: dict[str, Any] | None) -> None:
        if kind == "DELETED":
            return
        name = node["metadata"]["name"]
        quiet = self._quiet_until.get(name)
        if quiet is not None and old is not None and quiet[0] is old and logic.same_health(old, node):
            # a heartbeat of a healthy node (5,000 nodes post hundreds a second): only the time
            # it may stay silent moves
            lease = self.leases.store.get(f"{LEASE_NAMESPACE}/{name}")
            self._quiet_until[name] = (node, lease, logic.silent_after(node, lease, self.grace, self.startup_grace))
            return
        self.enqueue(node)

    async def run(self) -> None:
        monitor = asyncio.create_task(self._monitor(), name="node-monitor")
        try:
            await super().run()
        finally:
            monitor.cancel()

    async def _monitor(self) -> None:
        while True:
            await asyncio.sleep(self.period)
            now = self.ctx.now()
            leases = self.leases.store
            for name, node in list(self.nodes.store.items()):
                quiet = self._quiet_until.get(name)
                if (quiet is None or quiet[2] <= now or quiet[0] is not node
                        or quiet[1] is not leases.get(f"{LEASE_NAMESPACE}/{name}")):
                    self.queue.add(name)

    async def sync(self, name: str) -> None:
        node = self.nodes.store.get(name)
        if node is None:
            self._quiet_until.pop(name, None)
            return
        now = self.ctx.now()
        lease = self.leases.store.get(f"{LEASE_NAMESPACE}/{name}")
        conditions = logic.unknown_conditions(node, lease, now, self.grace, self.startup_grace)
        if conditions is not None:
            log.info("node %s stopped posting status; marking it Unknown", name)
            node = await self.api.patch(name, {"status": {"conditions": conditions}}, subresource="status")
            self.events.event(node, "Normal", "NodeNotReady", f"Node {name} status is now: NodeNotReady", kind="Node")
            await self._mark_pods_not_ready(name, now)
        taints = logic.wanted_taints(node, now)
        if taints is not None:
            await self.api.patch(name, {"metadata": {"resourceVersion": node["metadata"].get("resourceVersion")},
                                        "spec": {"taints": taints or None}})
        elif conditions is None:
            until = logic.silent_after(node, lease, self.grace, self.startup_grace)
            self._quiet_until[name] = (node, lease, until)

    async def _mark_pods_not_ready(self, node: str, now: float) -> None:
        for key in list(self.on_node.pods_on(node)):
            pod = self.pods.store.get(key)
            if pod is None:
                continue
            conditions = [dict(c) for c in (pod.get("status") or {}).get("conditions") or ()]
            ready = next((c for c in conditions if c.get("type") == "Ready"), None)
            if ready is None or ready.get("status") == "False":
                continue
            ready.update(status="False", lastTransitionTime=rfc3339(now))
            try:
                await self.pod_api.patch(pod["metadata"]["name"], {"status": {"conditions": conditions}},
                                         namespace=pod["metadata"].get("namespace"), subresource="status")
            except ApiError as err:
                if not err.is_not_found:
                    log.warning("marking pod %s not ready: %s", object_key(pod), err.message)


class PodsByNode:
    """Keys of the pods bound to each node, kept from pod events: a node going silent must not
    cost a pass over every pod of the cluster."""

    def __init__(self) -> None:
        self._by_node: dict[str, set[str]] = {}
        self._node_of: dict[str, str] = {}

    def on_event(self, kind: str, pod: dict[str, Any], old: dict[str, Any] | None) -> None:
        key = object_key(pod)
        node = "" if kind == "DELETED" else (pod.get("spec") or {}).get("nodeName") or ""
        previous = self._node_of.get(key, "")
        if previous == node:
            return
        if previous:
            pods = self._by_node.get(previous)
            if pods is not None:
                pods.discard(key)
                if not pods:
                    del self._by_node[previous]
            del self._node_of[key]
        if node:
            self._node_of[key] = node
            self._by_node.setdefault(node, set()).add(key)

    def pods_on(self, node: str) -> set[str]:
        return self._by_node.get(node, set())

    def node_of(self, key: str) -> str:
        return self._node_of.get(key, "")


class TaintEvictionController(Controller):
    name = "taint-eviction"
    component = "taint-eviction-controller"
    workers = 4

    def setup(self) -> None:
        self.nodes = self.ctx.informer("v1", "nodes")
        self.pods = self.ctx.informer("v1", "pods")
        self.on_node = PodsByNode()
        self.nodes.add_handler(self._on_node)
        self.pods.add_handler(self._on_pod)
        self.pod_api = self.client.resource("v1", "pods")

    def _on_node(self, kind: str, node: dict[str, Any], old: dict[str, Any] | None) -> None:
        if kind == "DELETED":
            return
        taints = (node.get("spec") or {}).get("taints")
        if old is not None and (old.get("spec") or {}).get("taints") == taints:
            return
        if any(t.get("effect") == "NoExecute" for t in taints or ()):
            for key in self.on_node.pods_on(node["metadata"]["name"]):
                self.queue.add(key)

    def _on_pod(self, kind: str, pod: dict[str, Any], old: dict[str, Any] | None) -> None:
        key = object_key(pod)
        previous = self.on_node.node_of(key)
        self.on_node.on_event(kind, pod, old)
        node = self.on_node.node_of(key)
        if node and node != previous:
            self.queue.add(key)

    async def sync(self, key: str) -> None:
        pod = self.pods.store.get(key)
        if pod is None or pod["metadata"].get("deletionTimestamp"):
            return
        node = self.nodes.store.get((pod.get("spec") or {}).get("nodeName") or "")
        if node is None:
            return
        now = self.ctx.now()
        eviction = logic.eviction_time(pod, (node.get("spec") or {}).get("taints") or [], now)
        if eviction.at is None:
            return
        if eviction.at > now:
            self.queue.add_after(key, eviction.at - now)
            return
        await self._evict(pod)

    async def _evict(self, pod: dict[str, Any]) -> None:
        name, ns = pod["metadata"]["name"], pod["metadata"].get("namespace")
        self.events.event(pod, "Normal", "TaintManagerEviction", f"Marking for deletion Pod {ns}/{name}", kind="Pod")
        conditions = [c for c in (pod.get("status") or {}).get("conditions") or () if c.get("type") != "DisruptionTarget"]
        conditions.append({"type": "DisruptionTarget", "status": "True", "reason": "DeletionByTaintManager",
                           "message": "Taint manager: deleting due to NoExecute taint",
                           "lastTransitionTime": rfc3339(self.ctx.now())})
        try:
            await self.pod_api.patch(name, {"status": {"conditions": conditions}}, namespace=ns, subresource="status")
            await self.pod_api.delete(name, ns, preconditions={"uid": pod["metadata"]["uid"]})
        except ApiError as err:
            if not (err.is_not_found or err.is_conflict):
                raise
