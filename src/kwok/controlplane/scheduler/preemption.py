"""DefaultPreemption as a pure decision: which lower-priority pods to evict, and from which node.

For every node whose failure preemption could resolve, all lower-priority pods are removed; if the
pod then fits, victims are reprieved from the most important down while it still fits (pods whose
eviction would violate a PodDisruptionBudget first). The node chosen is the one with the fewest
PDB violations, then the lowest highest-victim priority, the lowest sum of priorities, the fewest
victims, and the latest start time of its highest-priority victim. When no node works, the
outcome is the preemption FitError message ("preemption: 0/5 nodes are available: ...").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kwok.controlplane.scheduler.framework import CycleState, FitError, run_filters
from kwok.controlplane.scheduler.nodeinfo import NodeInfo, Snapshot
from kwok.controlplane.scheduler.podinfo import PodInfo
from kwok.controlplane.scheduler.status import (
    NO_PREEMPTION_VICTIMS,
    PREEMPTION_NOT_HELPFUL,
    Status,
    fit_error_message,
    unresolvable,
)

# Returns True when evicting the pod would violate a PodDisruptionBudget.
PdbCheck = Callable[[PodInfo], bool]


@dataclass(slots=True)
class Candidate:
    node: str
    victims: list[PodInfo]
    pdb_violations: int


@dataclass(slots=True)
class Outcome:
    candidate: Candidate | None
    message: str  # the PostFilter message when there is no candidate


def eligible(pod: PodInfo, snapshot: Snapshot) -> str | None:
    """Why the pod may not preempt (PodEligibleToPreemptOthers), or None."""
    if pod.spec.get("preemptionPolicy") == "Never":
        return "not eligible due to preemptionPolicy=Never."
    nominated = (pod.pod.get("status") or {}).get("nominatedNodeName")
    node = snapshot.nodes.get(nominated or "")
    if node is not None:
        for other in node.pods.values():
            if other.terminating and other.priority < pod.priority:
                return "not eligible due to a terminating pod on the nominated node."
    return None


def _more_important(pod: PodInfo) -> tuple[int, str]:
    return (-pod.priority, pod.start_time)


def _fits_without(pod: PodInfo, node: NodeInfo, state: CycleState, removed: list[PodInfo]) -> bool:
    for victim in removed:
        node.remove_pod(victim.key)
    try:
        return run_filters(pod, node, state) is None
    finally:
        for victim in removed:
            node.add_pod(victim)


def select_victims(pod: PodInfo, node: NodeInfo, state: CycleState,
                   violates_pdb: PdbCheck) -> Candidate | Status:
    lower = [p for p in node.pods.values() if p.priority < pod.priority]
    if not lower:
        return unresolvable("DefaultPreemption", NO_PREEMPTION_VICTIMS)
    for victim in lower:
        node.remove_pod(victim.key)
    try:
        status = run_filters(pod, node, state)
        if status is not None:
            return status
        lower.sort(key=_more_important)
        violating = [p for p in lower if violates_pdb(p)]
        others = [p for p in lower if not violates_pdb(p)]
        victims: list[PodInfo] = []
        violations = 0
        for group, is_violating in ((violating, True), (others, False)):
            for candidate in group:
                node.add_pod(candidate)
                if run_filters(pod, node, state) is not None:
                    node.remove_pod(candidate.key)
                    victims.append(candidate)
                    violations += int(is_violating)
    finally:
        for victim in lower:
            if victim.key not in node.pods:
                node.add_pod(victim)
    return Candidate(node.name, victims, violations)


def _rank(candidate: Candidate) -> tuple[int, int, int, int, str]:
    top = max((v.priority for v in candidate.victims), default=-(2**31))
    total = sum(v.priority + 2**31 for v in candidate.victims)
    latest = max((v.start_time for v in candidate.victims if v.priority == top), default="")
    # a later start time of the top victim is better: invert the string order by negating below
    return (candidate.pdb_violations, top, total, len(candidate.victims), _invert(latest))


def _invert(timestamp: str) -> str:
    return "".join(chr(0x10FFFF - ord(c)) for c in timestamp)


def preempt(pod: PodInfo, snapshot: Snapshot, state: CycleState, fit_error: FitError,
            violates_pdb: PdbCheck) -> Outcome:
    if fit_error.pre_filter_msg:
        helpless = {n.name: unresolvable("DefaultPreemption", PREEMPTION_NOT_HELPFUL) for n in snapshot.order}
        return Outcome(None, "preemption: " + fit_error_message(len(snapshot.order), helpless))
    reason = eligible(pod, snapshot)
    if reason is not None:
        return Outcome(None, f"preemption: {reason}")
    statuses: dict[str, Status] = {}
    candidates: list[Candidate] = []
    for node in snapshot.order:
        failed = fit_error.statuses.get(node.name)
        if failed is None or not failed.resolvable:
            statuses[node.name] = unresolvable("DefaultPreemption", PREEMPTION_NOT_HELPFUL)
            continue
        result = select_victims(pod, node, state, violates_pdb)
        if isinstance(result, Candidate):
            candidates.append(result)
        else:
            statuses[node.name] = result
    if not candidates:
        return Outcome(None, "preemption: " + fit_error_message(len(snapshot.order), statuses))
    return Outcome(min(candidates, key=_rank), "")
