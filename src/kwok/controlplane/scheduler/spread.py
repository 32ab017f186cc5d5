"""PodTopologySpread: `DoNotSchedule` constraints filter, `ScheduleAnyway` constraints score.

Matching pods are counted per topology domain over the nodes the constraint considers (those that
match the pod's node affinity when nodeAffinityPolicy is Honor, the default, and tolerate the
node's taints when nodeTaintsPolicy is Honor). A node fails when placing the pod there would make
`count(domain) + self - min(count over domains)` exceed maxSkew.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from kwok.api.selectors import LabelSelector, SelectorError, label_selector_from_object, parse_label_selector
from kwok.controlplane.scheduler.nodeaffinity import first_untolerated, pod_matches_node
from kwok.controlplane.scheduler.nodeinfo import NodeInfo, Snapshot
from kwok.controlplane.scheduler.podinfo import PodInfo
from kwok.controlplane.scheduler.status import Status, unresolvable, unschedulable

HOSTNAME = "kubernetes.io/hostname"
ZONE = "topology.kubernetes.io/zone"
ERR_CONSTRAINTS = "node(s) didn't match pod topology spread constraints"
ERR_MISSING_LABEL = ERR_CONSTRAINTS + " (missing required label)"


@dataclass(frozen=True, slots=True)
class Constraint:
    max_skew: int
    topology_key: str
    selector: LabelSelector
    min_domains: int
    honor_affinity: bool
    honor_taints: bool
    owner_uid: str = ""  # system default constraints select the pods of the pod's controller


def system_defaults(pod: PodInfo) -> list[Constraint]:
    """PodTopologySpread's `defaultingType: System` constraints, for pods with a controller."""
    if not pod.owner_uid:
        return []
    everything = label_selector_from_object({})
    return [Constraint(3, HOSTNAME, everything, 1, True, False, pod.owner_uid),
            Constraint(5, ZONE, everything, 1, True, False, pod.owner_uid)]


def constraints(pod: PodInfo, when: str) -> list[Constraint]:
    out = []
    for c in pod.spec.get("topologySpreadConstraints") or ():
        if c.get("whenUnsatisfiable", "DoNotSchedule") != when:
            continue
        try:
            selector = label_selector_from_object(c.get("labelSelector"))
            keys = [k for k in c.get("matchLabelKeys") or () if k in pod.labels]
            if keys:
                extra = ",".join(f"{k} in ({pod.labels[k]})" for k in keys)
                text = f"{selector},{extra}" if not selector.empty else extra
                selector = parse_label_selector(text)
        except SelectorError:
            continue
        out.append(Constraint(int(c.get("maxSkew", 1)), c.get("topologyKey", ""), selector,
                              int(c.get("minDomains") or 1), c.get("nodeAffinityPolicy", "Honor") == "Honor",
                              c.get("nodeTaintsPolicy", "Ignore") == "Honor"))
    return out


def _count(node: NodeInfo, c: Constraint, namespace: str) -> int:
    if c.owner_uid:
        return node.owner_counts.get(c.owner_uid, 0)
    return sum(1 for p in node.pods.values()
               if p.namespace == namespace and not p.terminating and c.selector.matches(p.labels))


def _considered(pod: PodInfo, node: NodeInfo, c: Constraint) -> bool:
    if c.honor_affinity and not pod_matches_node(pod.spec, node.name, node.labels):
        return False
    return not (c.honor_taints and first_untolerated(node.taints, pod.tolerations, ("NoSchedule", "NoExecute")))


@dataclass(slots=True)
class SpreadState:
    constraints: list[Constraint]
    counts: list[dict[str, int]] = field(default_factory=list)  # per constraint: domain -> pods
    self_match: list[bool] = field(default_factory=list)

    def min_match(self, i: int) -> int:
        domains = self.counts[i]
        if not domains or len(domains) < self.constraints[i].min_domains:
            return 0
        return min(domains.values())


def pre_filter(pod: PodInfo, snapshot: Snapshot) -> SpreadState | None:
    cons = constraints(pod, "DoNotSchedule")
    if not cons:
        return None
    state = SpreadState(cons, [{} for _ in cons], [c.selector.matches(pod.labels) for c in cons])
    for node in snapshot.order:
        if not all(c.topology_key in node.labels for c in cons):
            continue
        for i, c in enumerate(cons):
            if _considered(pod, node, c):
                value = node.labels[c.topology_key]
                state.counts[i][value] = state.counts[i].get(value, 0) + _count(node, c, pod.namespace)
    return state


def filter_node(pod: PodInfo, node: NodeInfo, state: SpreadState) -> Status | None:
    for i, c in enumerate(state.constraints):
        value = node.labels.get(c.topology_key)
        if value is None:
            return unresolvable("PodTopologySpread", ERR_MISSING_LABEL)
        skew = state.counts[i].get(value, 0) + int(state.self_match[i]) - state.min_match(i)
        if skew > c.max_skew:
            return unschedulable("PodTopologySpread", ERR_CONSTRAINTS)
    return None


@dataclass(slots=True)
class SpreadScore:
    constraints: list[Constraint]
    pair_counts: dict[tuple[str, str], int]
    weights: list[float]
    ignored: set[str]
    namespace: str


def pre_score(pod: PodInfo, snapshot: Snapshot, feasible: list[NodeInfo]) -> SpreadScore | None:
    explicit = bool(pod.spec.get("topologySpreadConstraints"))
    cons = constraints(pod, "ScheduleAnyway") if explicit else system_defaults(pod)
    if not cons:
        return None
    state = SpreadScore(cons, {}, [], set(), pod.namespace)
    sizes = [0] * len(cons)
    for node in feasible:
        if explicit and not all(c.topology_key in node.labels for c in cons):
            state.ignored.add(node.name)  # requireAllTopologies only for the pod's own constraints
            continue
        for i, c in enumerate(cons):
            if c.topology_key not in node.labels:
                continue
            pair = (c.topology_key, node.labels[c.topology_key])
            if c.topology_key != HOSTNAME and pair not in state.pair_counts:
                state.pair_counts[pair] = 0
                sizes[i] += 1
    for i, c in enumerate(cons):
        size = len(feasible) - len(state.ignored) if c.topology_key == HOSTNAME else sizes[i]
        state.weights.append(math.log(size + 2))
    for node in snapshot.order:
        if explicit and not all(c.topology_key in node.labels for c in cons):
            continue
        for c in cons:
            if c.topology_key not in node.labels:
                continue
            pair = (c.topology_key, node.labels[c.topology_key])
            if pair in state.pair_counts and _considered(pod, node, c):
                state.pair_counts[pair] += _count(node, c, pod.namespace)
    return state


def score(node: NodeInfo, state: SpreadScore) -> int:
    if node.name in state.ignored:
        return 0
    total = 0.0
    for i, c in enumerate(state.constraints):
        value = node.labels.get(c.topology_key)
        if value is None:
            continue
        if c.topology_key == HOSTNAME:
            count = _count(node, c, state.namespace)
        else:
            count = state.pair_counts.get((c.topology_key, value), 0)
        total += count * state.weights[i] + (c.max_skew - 1)
    return int(total + 0.5)  # Go's math.Round: halves away from zero


def normalize(names: list[str], scores: list[int], state: SpreadScore) -> list[int]:
    valid = [s for n, s in zip(names, scores, strict=True) if n not in state.ignored]
    low, high = min(valid, default=0), max(valid, default=0)
    out = []
    for name, s in zip(names, scores, strict=True):
        if name in state.ignored:
            out.append(0)
        elif high == 0:
            out.append(100)
        else:
            out.append(100 * (high + low - s) // high)
    return out
