"""ReplicaSet decisions (pure): how many pods to create or which to delete, and the status.

Creation is bounded per sync (burstReplicas 500) and done in slow-start batches of 1, 2, 4, ...
so a failing create (quota, admission) fails once rather than 500 times.
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


def decide_scale(replicas: int, active: list[dict[str, Any]]) -> ScaleDecision:
    diff = len(active) - replicas
    if diff < 0:
        return ScaleDecision(create=min(-diff, BURST_REPLICAS))
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


def replica_set_status(rs: dict[str, Any], pods: list[dict[str, Any]], template_selector: LabelSelector | None,
                       now: float, create_error: str | None = None) -> dict[str, Any]:
    """calculateStatus: counts over the active pods, and the ReplicaFailure condition."""
    spec = rs.get("spec") or {}
    min_ready = int(spec.get("minReadySeconds") or 0)
    template_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    replicas = fully = ready = available = terminating = 0
    for p in pods:  # one pass: this runs on every sync of sets with thousands of pods
        if not is_active(p):
            terminating += is_terminating(p)
            continue
        replicas += 1
        labels = p["metadata"].get("labels") or {}
        fully += all(labels.get(k) == v for k, v in template_labels.items())
        if is_ready(p):
            ready += 1
            available += min_ready <= 0 or is_available(p, min_ready, now)
    status: dict[str, Any] = {
        "replicas": replicas,
        "fullyLabeledReplicas": fully,
        "readyReplicas": ready,
        "availableReplicas": available,
        "terminatingReplicas": terminating,
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
