"""The scheduler's view of one node: the node plus the pods it already carries (or is assumed to).

Aggregates (requested resources, host ports, pods with affinity) are kept up to date as pods are
added and removed, so a filter reads them in O(1) (`framework.NodeInfo` upstream).
"""

from __future__ import annotations

from typing import Any

from kwok.controlplane.resources import CPU, MEMORY, PODS, Resources, resource_list
from kwok.controlplane.scheduler.podinfo import HostPort, PodInfo


class NodeInfo:
    __slots__ = ("name", "node", "labels", "taints", "unschedulable", "allocatable", "requested",
                 "nonzero_cpu", "nonzero_memory", "pods", "ports", "pods_with_affinity",
                 "pods_with_required_anti_affinity", "owner_counts")

    def __init__(self, node: dict[str, Any]) -> None:
        self.pods: dict[str, PodInfo] = {}
        self.requested: Resources = {}
        self.nonzero_cpu = self.nonzero_memory = 0
        self.ports: dict[HostPort, int] = {}
        self.pods_with_affinity = 0
        self.pods_with_required_anti_affinity = 0
        self.owner_counts: dict[str, int] = {}  # controller uid -> its pods here (default spreading)
        self.set_node(node)

    def set_node(self, node: dict[str, Any]) -> None:
        self.node = node
        self.name: str = node["metadata"]["name"]
        self.labels: dict[str, str] = node["metadata"].get("labels") or {}
        spec = node.get("spec") or {}
        self.taints: list[dict[str, Any]] = spec.get("taints") or []
        self.unschedulable = bool(spec.get("unschedulable"))
        self.allocatable = resource_list((node.get("status") or {}).get("allocatable"))

    def add_pod(self, info: PodInfo) -> None:
        if info.key in self.pods:
            self.remove_pod(info.key)
        self.pods[info.key] = info
        self._account(info, 1)

    def remove_pod(self, key: str) -> PodInfo | None:
        info = self.pods.pop(key, None)
        if info is not None:
            self._account(info, -1)
        return info

    def _account(self, info: PodInfo, sign: int) -> None:
        requested = self.requested
        for name, amount in info.requests.items():
            requested[name] = requested.get(name, 0) + sign * amount
        self.nonzero_cpu += sign * info.nonzero_cpu
        self.nonzero_memory += sign * info.nonzero_memory
        for port in info.host_ports:
            self.ports[port] = self.ports.get(port, 0) + sign
            if not self.ports[port]:
                del self.ports[port]
        if info.has_affinity_terms:
            self.pods_with_affinity += sign
        if info.required_anti_affinity:
            self.pods_with_required_anti_affinity += sign
        if info.owner_uid and not info.terminating:
            count = self.owner_counts.get(info.owner_uid, 0) + sign
            if count:
                self.owner_counts[info.owner_uid] = count
            else:
                self.owner_counts.pop(info.owner_uid, None)

    def free(self, name: str) -> int:
        if name == PODS:
            return self.allocatable.get(PODS, 0) - len(self.pods)
        return self.allocatable.get(name, 0) - self.requested.get(name, 0)

    def __repr__(self) -> str:
        return (f"NodeInfo({self.name}, pods={len(self.pods)}, cpu={self.requested.get(CPU, 0)}m,"
                f" memory={self.requested.get(MEMORY, 0)})")


class Snapshot:
    """All nodes, in a stable order for the round-robin start index, and where each pod is."""

    def __init__(self) -> None:
        self.nodes: dict[str, NodeInfo] = {}
        self.order: list[NodeInfo] = []
        self.pod_node: dict[str, str] = {}
        # pods bound to nodes the scheduler has not seen yet (watch order is not guaranteed)
        self._orphans: dict[str, dict[str, PodInfo]] = {}
        self.namespace_labels: dict[str, dict[str, str]] = {}
        self.generation = 0  # bumped on every change that can alter a decision; lets callers cache
        self.prefer_no_schedule_nodes = 0
        self.pods_with_affinity = 0

    def set_node(self, node: dict[str, Any]) -> None:
        name = node["metadata"]["name"]
        info = self.nodes.get(name)
        if info is not None:
            before = (info.labels, info.taints, info.unschedulable, info.allocatable)
            self.prefer_no_schedule_nodes -= _prefers_no_schedule(info.taints)
            info.set_node(node)
            self.prefer_no_schedule_nodes += _prefers_no_schedule(info.taints)
            if before != (info.labels, info.taints, info.unschedulable, info.allocatable):
                self.generation += 1
            return
        self.generation += 1
        info = NodeInfo(node)
        self.nodes[name] = info
        self.order.append(info)
        self.prefer_no_schedule_nodes += _prefers_no_schedule(info.taints)
        for pod in self._orphans.pop(name, {}).values():
            info.add_pod(pod)

    def remove_node(self, name: str) -> None:
        self.generation += 1
        info = self.nodes.pop(name, None)
        if info is not None:
            self.order.remove(info)
            self.prefer_no_schedule_nodes -= _prefers_no_schedule(info.taints)
            self._orphans[name] = info.pods

    def add_pod(self, info: PodInfo, node_name: str) -> None:
        node = self.nodes.get(node_name)
        if node is not None and self.pod_node.get(info.key) == node_name:
            old = node.pods.get(info.key)
            if old is not None and _equivalent(old, info):
                node.pods[info.key] = info  # a status update: nothing the scheduler counts changed
                return
        self.generation += 1
        self.remove_pod(info.key)
        self.pod_node[info.key] = node_name
        self.pods_with_affinity += info.has_affinity_terms
        node = self.nodes.get(node_name)
        if node is not None:
            node.add_pod(info)
        else:
            self._orphans.setdefault(node_name, {})[info.key] = info

    def remove_pod(self, key: str) -> None:
        node_name = self.pod_node.pop(key, None)
        if node_name is None:
            return
        self.generation += 1
        node = self.nodes.get(node_name)
        removed = node.remove_pod(key) if node is not None else self._orphans.get(node_name, {}).pop(key, None)
        if removed is not None:
            self.pods_with_affinity -= removed.has_affinity_terms

    def pods(self) -> list[tuple[PodInfo, NodeInfo]]:
        return [(pod, node) for node in self.order for pod in node.pods.values()]


def _prefers_no_schedule(taints: list[dict[str, Any]]) -> int:
    return int(any(t.get("effect") == "PreferNoSchedule" for t in taints))


def _equivalent(old: PodInfo, new: PodInfo) -> bool:
    """Same footprint on the node: requests, ports, labels and no affinity terms."""
    return (old.requests == new.requests and old.nonzero_cpu == new.nonzero_cpu
            and old.nonzero_memory == new.nonzero_memory and old.host_ports == new.host_ports
            and old.labels == new.labels and not old.has_affinity_terms and not new.has_affinity_terms
            and old.terminating == new.terminating and old.owner_uid == new.owner_uid)
