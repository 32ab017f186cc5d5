"""ReplicaSet decisions (pure): how many pods to create or which to delete, and the status.

Creation is bounded per sync (burstReplicas 500) and done in slow-start batches of 1, 2, 4, ...
so a failing create (quota, admission) fails once rather than 500 times.

The counts the status needs are kept per ReplicaSet by `PodTallies` as pod events arrive: a set of
10,000 pods sees tens of thousands of pod events while it scales, and recounting every pod on each
sync (as the Go controller can afford to) would make the controller quadratic here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kwok.api.selectors import LabelSelector
from kwok.controlplane.controllers.pods import (
    is_active,
    is_available,
    is_ready,
    is_terminating,
    pods_to_delete,
)

BURST_REPLICAS = 500
SLOW_START_INITIAL_BATCH = 1


@dataclass(slots=True)
class ScaleDecision:
    create: int = 0
    delete: list[dict[str, Any]] | None = None


def create_count(replicas: int, active: int) -> int:
    """Pods to create in one sync: the shortfall, at most burstReplicas."""
    return min(max(replicas - active, 0), BURST_REPLICAS)


def decide_scale(replicas: int, active: list[dict[str, Any]]) -> ScaleDecision:
    diff = len(active) - replicas
    if diff < 0:
        return ScaleDecision(create=create_count(replicas, len(active)))
    if diff > 0:
        return ScaleDecision(delete=pods_to_delete(active, min(diff, BURST_REPLICAS)))
    return ScaleDecision()


def slow_start_batches(count: int, initial: int = SLOW_START_INITIAL_BATCH) -> list[int]:
    batches, size = [], initial
    while count > 0:
        batch = min(size, count)
        batches.append(batch)
        count -= batch
        size *= 2
    return batches


@dataclass(slots=True)
class PodCounts:
    """What calculateStatus counts over a ReplicaSet's pods (availability aside)."""

    active: int = 0
    terminating: int = 0
    ready: int = 0  # active and Ready
    fully_labeled: int = 0  # active and carrying every label of the template


def template_labels_of(rs: dict[str, Any]) -> dict[str, str]:
    return (((rs.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels") or {}


def _has_labels(labels: dict[str, str], wanted: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in wanted.items())


# A pod as the tallies count it: (active, terminating, ready, its labels)
_PodClass = tuple[bool, bool, bool, dict[str, str]]


def _classify(pod: dict[str, Any]) -> _PodClass:
    active = is_active(pod)
    return active, not active and is_terminating(pod), active and is_ready(pod), pod["metadata"].get("labels") or {}


class _Tally:
    """The counts of one ReplicaSet's pods, and which of them the selector has not yet seen."""

    __slots__ = ("classes", "counts", "template_labels", "unchecked")

    def __init__(self) -> None:
        self.classes: dict[str, _PodClass] = {}
        self.counts = PodCounts()
        self.template_labels: dict[str, str] | None = None  # what fully_labeled was counted against
        self.unchecked: set[str] = set()

    def _count(self, cls: _PodClass, sign: int) -> None:
        active, terminating, ready, labels = cls
        c = self.counts
        c.active += sign * active
        c.terminating += sign * terminating
        c.ready += sign * ready
        if active and self.template_labels is not None and _has_labels(labels, self.template_labels):
            c.fully_labeled += sign

    def put(self, key: str, pod: dict[str, Any]) -> None:
        cls = _classify(pod)
        previous = self.classes.get(key)
        if previous is not None:
            self._count(previous, -1)
        if previous is None or previous[3] != cls[3]:
            self.unchecked.add(key)
        self.classes[key] = cls
        self._count(cls, 1)

    def remove(self, key: str) -> None:
        previous = self.classes.pop(key, None)
        if previous is not None:
            self._count(previous, -1)
        self.unchecked.discard(key)

    def recount_labels(self, template_labels: dict[str, str]) -> None:
        self.template_labels = dict(template_labels)
        self.counts.fully_labeled = sum(1 for active, _, _, labels in self.classes.values()
                                        if active and _has_labels(labels, template_labels))


class PodTallies:
    """PodCounts per controlling owner (by uid), maintained from pod events in O(1) each."""

    def __init__(self) -> None:
        self._by_owner: dict[str, _Tally] = {}
        self._owner_of: dict[str, str] = {}

    def on_event(self, kind: str, key: str, pod: dict[str, Any], owner_uid: str | None) -> None:
        """`owner_uid`: the uid of the pod's controller when it is of the tallied kind, else None."""
        previous = self._owner_of.get(key)
        if previous is not None and (kind == "DELETED" or previous != owner_uid):
            tally = self._by_owner.get(previous)
            if tally is not None:
                tally.remove(key)
                if not tally.classes:
                    del self._by_owner[previous]
            del self._owner_of[key]
        if kind == "DELETED" or owner_uid is None:
            return
        self._owner_of[key] = owner_uid
        self._by_owner.setdefault(owner_uid, _Tally()).put(key, pod)

    def counts(self, owner_uid: str, template_labels: dict[str, str]) -> PodCounts:
        tally = self._by_owner.get(owner_uid)
        if tally is None:
            return PodCounts()
        if tally.template_labels != template_labels:
            tally.recount_labels(template_labels)
        c = tally.counts
        return PodCounts(c.active, c.terminating, c.ready, c.fully_labeled)

    def take_unchecked(self, owner_uid: str) -> set[str]:
        """Pods whose labels changed (or that appeared) since the last call: the selector must
        look at them again to release those that no longer match."""
        tally = self._by_owner.get(owner_uid)
        if tally is None or not tally.unchecked:
            return set()
        keys, tally.unchecked = tally.unchecked, set()
        return keys

    def recheck(self, owner_uid: str, keys: set[str]) -> None:
        tally = self._by_owner.get(owner_uid)
        if tally is not None:
            tally.unchecked |= keys & tally.classes.keys()


def count_pods(pods: list[dict[str, Any]], template_labels: dict[str, str]) -> PodCounts:
    """PodCounts of an explicit list of pods (the counts a tally keeps, computed in one pass)."""
    counts = PodCounts()
    for p in pods:
        if not is_active(p):
            counts.terminating += is_terminating(p)
            continue
        counts.active += 1
        counts.fully_labeled += _has_labels(p["metadata"].get("labels") or {}, template_labels)
        counts.ready += is_ready(p)
    return counts


def count_available(pods: list[dict[str, Any]], min_ready: int, now: float) -> int:
    """Active pods Ready for at least minReadySeconds."""
    return sum(1 for p in pods if is_active(p) and is_available(p, min_ready, now))


def replica_set_status(rs: dict[str, Any], pods: list[dict[str, Any]], template_selector: LabelSelector | None,
                       now: float, create_error: str | None = None) -> dict[str, Any]:
    """calculateStatus: counts over the active pods, and the ReplicaFailure condition."""
    min_ready = int((rs.get("spec") or {}).get("minReadySeconds") or 0)
    counts = count_pods(pods, template_labels_of(rs))
    available = counts.ready if min_ready <= 0 else count_available(pods, min_ready, now)
    return status_from_counts(rs, counts, available, now, create_error)


def status_from_counts(rs: dict[str, Any], counts: PodCounts, available: int, now: float,
                       create_error: str | None = None) -> dict[str, Any]:
    status: dict[str, Any] = {
        "replicas": counts.active,
        "fullyLabeledReplicas": counts.fully_labeled,
        "readyReplicas": counts.ready,
        "availableReplicas": available,
        "terminatingReplicas": counts.terminating,
        "observedGeneration": rs["metadata"].get("generation", 0),
    }
    conditions = [c for c in (rs.get("status") or {}).get("conditions") or () if c.get("type") != "ReplicaFailure"]
    if create_error:
        conditions.append({"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate",
                           "message": create_error, "lastTransitionTime": _existing_ltt(rs, now)})
    if conditions:
        status["conditions"] = conditions
    return status


def _existing_ltt(rs: dict[str, Any], now: float) -> str:
    from kwok.controlplane.timefmt import rfc3339

    for cond in (rs.get("status") or {}).get("conditions") or ():
        if cond.get("type") == "ReplicaFailure" and cond.get("lastTransitionTime"):
            return str(cond["lastTransitionTime"])
    return rfc3339(now)


def status_changed(old: dict[str, Any] | None, new: dict[str, Any]) -> bool:
    old = old or {}
    keys = set(old) | set(new)
    return any((old.get(k) or 0) != (new.get(k) or 0) for k in keys if k != "conditions") or \
        (old.get("conditions") or []) != (new.get("conditions") or [])
