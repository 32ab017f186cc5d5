"""The score plugins of the default profile, their normalization and weights.

A plugin scores each feasible node (0-100 after normalization) and the framework sums
`score * weight`; the weights are kube-scheduler's defaults: TaintToleration 3, NodeAffinity 2,
PodTopologySpread 2, InterPodAffinity 2, NodeResourcesFit 1 (LeastAllocated on cpu and memory),
NodeResourcesBalancedAllocation 1. ImageLocality (1) scores nothing on fake nodes without images.
"""

from __future__ import annotations

from kwok.controlplane.resources import CPU, MEMORY
from kwok.controlplane.scheduler.nodeaffinity import preferred_score, tolerates
from kwok.controlplane.scheduler.nodeinfo import NodeInfo
from kwok.controlplane.scheduler.podinfo import PodInfo

MAX_NODE_SCORE = 100

WEIGHT_TAINT_TOLERATION = 3
WEIGHT_NODE_AFFINITY = 2
WEIGHT_POD_TOPOLOGY_SPREAD = 2
WEIGHT_INTER_POD_AFFINITY = 2
WEIGHT_FIT = 1
WEIGHT_BALANCED = 1


def least_allocated(pod: PodInfo, node: NodeInfo) -> int:
    """NodeResourcesFit's LeastAllocated score on cpu and memory (weight 1 each), with the
    default non-zero requests so best-effort pods still spread."""
    total = 0
    for capacity, requested in (
        (node.allocatable.get(CPU, 0), node.nonzero_cpu + pod.nonzero_cpu),
        (node.allocatable.get(MEMORY, 0), node.nonzero_memory + pod.nonzero_memory),
    ):
        if capacity and requested <= capacity:
            total += (capacity - requested) * MAX_NODE_SCORE // capacity
    return total // 2


def balanced_allocation(pod: PodInfo, node: NodeInfo) -> int:
    """NodeResourcesBalancedAllocation: 100 * (1 - standard deviation of the cpu and memory
    fractions); skipped (0 everywhere) for a pod that requests neither."""
    want_cpu, want_memory = pod.requests.get(CPU, 0), pod.requests.get(MEMORY, 0)
    if not want_cpu and not want_memory:
        return 0
    fractions = []
    for capacity, requested in (
        (node.allocatable.get(CPU, 0), node.requested.get(CPU, 0) + want_cpu),
        (node.allocatable.get(MEMORY, 0), node.requested.get(MEMORY, 0) + want_memory),
    ):
        fractions.append(min(requested / capacity, 1.0) if capacity else 1.0)
    std = abs(fractions[0] - fractions[1]) / 2
    return int((1 - std) * MAX_NODE_SCORE)


def node_affinity_raw(pod: PodInfo, node: NodeInfo) -> int:
    return preferred_score(pod.spec, node.name, node.labels)


def intolerable_prefer_no_schedule(pod: PodInfo, node: NodeInfo) -> int:
    """TaintToleration's raw score: PreferNoSchedule taints the pod does not tolerate."""
    tolerations = [t for t in pod.tolerations if (t.get("effect") or "PreferNoSchedule") == "PreferNoSchedule"]
    return sum(1 for taint in node.taints
               if taint.get("effect") == "PreferNoSchedule" and not any(tolerates(t, taint) for t in tolerations))


def default_normalize(scores: list[int], reverse: bool) -> list[int]:
    """`helper.DefaultNormalizeScore`: scale to 0-100 by the maximum; `reverse` flips it."""
    highest = max(scores, default=0)
    if highest == 0:
        return [MAX_NODE_SCORE if reverse else 0 for _ in scores]
    out = [MAX_NODE_SCORE * s // highest for s in scores]
    return [MAX_NODE_SCORE - s for s in out] if reverse else out
