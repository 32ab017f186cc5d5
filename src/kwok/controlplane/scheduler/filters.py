"""The per-node filter plugins of the default profile, in the profile's order.

Each filter takes the pod, the node and the cycle state and returns None (fits) or a Status.
The first failing filter decides a node's reasons, as in RunFilterPlugins, which is why the order
here is the order of kube-scheduler's default plugin list. Filters that need a view over all
nodes (pod topology spread, inter-pod affinity) live in their own modules and are appended by
the framework when the pod or the cluster needs them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kwok.controlplane.resources import CPU, EPHEMERAL_STORAGE, MEMORY, PODS
from kwok.controlplane.scheduler.nodeaffinity import first_untolerated, pod_matches_node, tolerated
from kwok.controlplane.scheduler.nodeinfo import NodeInfo
from kwok.controlplane.scheduler.podinfo import PodInfo
from kwok.controlplane.scheduler.status import Status, unresolvable, unschedulable

Filter = Callable[[PodInfo, NodeInfo, Any], "Status | None"]

UNSCHEDULABLE_TAINT = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}

ERR_UNSCHEDULABLE = "node(s) were unschedulable"
ERR_NODE_NAME = "node(s) didn't match the requested node name"
ERR_NODE_AFFINITY = "node(s) didn't match Pod's node affinity/selector"
ERR_PORTS = "node(s) didn't have free ports for the requested pod ports"
ERR_TOO_MANY_PODS = "Too many pods"


def node_unschedulable(pod: PodInfo, node: NodeInfo, state: Any) -> Status | None:
    if node.unschedulable and not tolerated(pod.tolerations, UNSCHEDULABLE_TAINT):
        return unresolvable("NodeUnschedulable", ERR_UNSCHEDULABLE)
    return None


def node_name(pod: PodInfo, node: NodeInfo, state: Any) -> Status | None:
    wanted = pod.node_name
    if wanted and wanted != node.name:
        return unresolvable("NodeName", ERR_NODE_NAME)
    return None


def taint_toleration(pod: PodInfo, node: NodeInfo, state: Any) -> Status | None:
    taint = first_untolerated(node.taints, pod.tolerations, ("NoSchedule", "NoExecute"))
    if taint is None:
        return None
    return unresolvable("TaintToleration",
                        f"node(s) had untolerated taint {{{taint.get('key', '')}: {taint.get('value', '')}}}")


def node_affinity(pod: PodInfo, node: NodeInfo, state: Any) -> Status | None:
    if pod_matches_node(pod.spec, node.name, node.labels):
        return None
    return unresolvable("NodeAffinity", ERR_NODE_AFFINITY)


def _port_conflict(want: tuple[str, str, int], used: dict[tuple[str, str, int], int]) -> bool:
    ip, protocol, port = want
    if want in used:
        return True
    for used_ip, used_protocol, used_port in used:
        if used_port == port and used_protocol == protocol and "0.0.0.0" in (ip, used_ip):
            return True
    return False


def node_ports(pod: PodInfo, node: NodeInfo, state: Any) -> Status | None:
    if pod.host_ports and node.ports and any(_port_conflict(p, node.ports) for p in pod.host_ports):
        return unschedulable("NodePorts", ERR_PORTS)
    return None


def insufficient_resources(pod: PodInfo, node: NodeInfo, extra: dict[str, int] | None = None) -> list[str]:
    """NodeResourcesFit's reasons; `extra` adds resources of nominated pods to the node."""
    extra = extra or {}
    reasons = []
    allowed = node.allocatable.get(PODS, 0)
    if len(node.pods) + 1 + extra.get(PODS, 0) > allowed:
        reasons.append(ERR_TOO_MANY_PODS)
    requests = pod.requests
    if not any(requests.values()):
        return reasons
    for name in (CPU, MEMORY, EPHEMERAL_STORAGE):
        want = requests.get(name, 0)
        if want and want > node.allocatable.get(name, 0) - node.requested.get(name, 0) - extra.get(name, 0):
            reasons.append(f"Insufficient {name}")
    for name, want in requests.items():
        if name in (CPU, MEMORY, EPHEMERAL_STORAGE, PODS) or not want:
            continue
        if want > node.allocatable.get(name, 0) - node.requested.get(name, 0) - extra.get(name, 0):
            reasons.append(f"Insufficient {name}")
    return reasons


def node_resources_fit(pod: PodInfo, node: NodeInfo, state: Any) -> Status | None:
    extra = state.nominated_extra(pod, node) if state is not None else None
    reasons = insufficient_resources(pod, node, extra)
    if reasons:
        return unschedulable("NodeResourcesFit", *reasons)
    return None


DEFAULT_FILTERS: tuple[Filter, ...] = (
    node_unschedulable, node_name, taint_toleration, node_affinity, node_ports, node_resources_fit,
)
