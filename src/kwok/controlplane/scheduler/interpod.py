"""InterPodAffinity: required pod affinity / anti-affinity (filter) and preferred terms (score).

PreFilter counts, per topology pair (key, value), the existing pods that the incoming pod's terms
select and the existing pods whose required anti-affinity selects the incoming pod; the filter and
score then only look up the node's pairs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kwok.controlplane.scheduler.nodeinfo import NodeInfo, Snapshot
from kwok.controlplane.scheduler.podinfo import AffinityTerm, PodInfo
from kwok.controlplane.scheduler.status import Status, unresolvable, unschedulable

ERR_AFFINITY = "node(s) didn't match pod affinity rules"
ERR_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules"
ERR_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules"
HARD_POD_AFFINITY_WEIGHT = 1

Pair = tuple[str, str]


@dataclass(slots=True)
class AffinityState:
    existing_anti: dict[Pair, int] = field(default_factory=dict)
    affinity: dict[Pair, int] = field(default_factory=dict)
    anti: dict[Pair, int] = field(default_factory=dict)
    self_match: bool = False


def _bump(counts: dict[Pair, int], key: str, node: NodeInfo, by: int = 1) -> None:
    value = node.labels.get(key)
    if value is not None:
        counts[(key, value)] = counts.get((key, value), 0) + by


def needed(pod: PodInfo, snapshot: Snapshot) -> bool:
    return bool(pod.required_affinity or pod.required_anti_affinity
                or any(n.pods_with_required_anti_affinity for n in snapshot.order))


def pre_filter(pod: PodInfo, snapshot: Snapshot) -> AffinityState:
    state = AffinityState()
    ns_labels = snapshot.namespace_labels
    for node in snapshot.order:
        if not node.pods_with_required_anti_affinity and not (pod.required_affinity or pod.required_anti_affinity):
            continue
        for other in node.pods.values():
            for term in other.required_anti_affinity:
                if term.matches(pod, ns_labels):
                    _bump(state.existing_anti, term.topology_key, node)
            if pod.required_affinity and all(t.matches(other, ns_labels) for t in pod.required_affinity):
                for term in pod.required_affinity:
                    _bump(state.affinity, term.topology_key, node)
            for term in pod.required_anti_affinity:
                if term.matches(other, ns_labels):
                    _bump(state.anti, term.topology_key, node)
    state.self_match = all(t.matches(pod, ns_labels) for t in pod.required_affinity)
    return state


def _satisfies_affinity(pod: PodInfo, state: AffinityState, node: NodeInfo) -> bool:
    pods_exist = True
    for term in pod.required_affinity:
        value = node.labels.get(term.topology_key)
        if value is None:
            return False
        if state.affinity.get((term.topology_key, value), 0) <= 0:
            pods_exist = False
    # the first pod of a group that has affinity to itself may go anywhere its topology exists
    return pods_exist or (not state.affinity and state.self_match)


def _hits(terms: list[AffinityTerm], counts: dict[Pair, int], node: NodeInfo) -> bool:
    for term in terms:
        value = node.labels.get(term.topology_key)
        if value is not None and counts.get((term.topology_key, value), 0) > 0:
            return True
    return False


def filter_node(pod: PodInfo, node: NodeInfo, state: AffinityState) -> Status | None:
    if not _satisfies_affinity(pod, state, node):
        return unresolvable("InterPodAffinity", ERR_AFFINITY)
    if _hits(pod.required_anti_affinity, state.anti, node):
        return unschedulable("InterPodAffinity", ERR_ANTI_AFFINITY)
    if state.existing_anti:
        for (key, value), count in state.existing_anti.items():
            if count > 0 and node.labels.get(key) == value:
                return unschedulable("InterPodAffinity", ERR_EXISTING_ANTI_AFFINITY)
    return None


def pre_score(pod: PodInfo, snapshot: Snapshot) -> dict[Pair, int] | None:
    """Topology scores for the preferred terms on both sides; None when nothing can score."""
    has_preferred = bool(pod.preferred_affinity or pod.preferred_anti_affinity)
    if not has_preferred and not any(n.pods_with_affinity for n in snapshot.order):
        return None
    scores: dict[Pair, int] = {}
    ns_labels = snapshot.namespace_labels
    for node in snapshot.order:
        if not has_preferred and not node.pods_with_affinity:
            continue
        for other in node.pods.values():
            for term in pod.preferred_affinity:
                if term.matches(other, ns_labels):
                    _bump(scores, term.topology_key, node, term.weight)
            for term in pod.preferred_anti_affinity:
                if term.matches(other, ns_labels):
                    _bump(scores, term.topology_key, node, -term.weight)
            for term in other.required_affinity:
                if term.matches(pod, ns_labels):
                    _bump(scores, term.topology_key, node, HARD_POD_AFFINITY_WEIGHT)
            for term in other.preferred_affinity:
                if term.matches(pod, ns_labels):
                    _bump(scores, term.topology_key, node, term.weight)
            for term in other.preferred_anti_affinity:
                if term.matches(pod, ns_labels):
                    _bump(scores, term.topology_key, node, -term.weight)
    return scores


def score(node: NodeInfo, topology_scores: dict[Pair, int]) -> int:
    return sum(s for (key, value), s in topology_scores.items() if node.labels.get(key) == value)


def normalize(scores: list[int]) -> list[int]:
    low, high = min(scores, default=0), max(scores, default=0)
    if high == low:
        return [0 for _ in scores]
    return [int(100 * (s - low) / (high - low)) for s in scores]
