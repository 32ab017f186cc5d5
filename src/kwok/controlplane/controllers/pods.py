"""Pure pod facts the workload controllers share: activity, readiness, availability, creation
from a template, and the order in which surplus pods are deleted (controller.ActivePodsWithRanks).
"""

from __future__ import annotations

import copy
from typing import Any

from kwok.controlplane.timefmt import parse_time

TERMINAL = ("Succeeded", "Failed")
DELETION_COST = "controller.kubernetes.io/pod-deletion-cost"
_PHASE_RANK = {"Pending": 0, "Unknown": 1, "Running": 2}


def is_terminal(pod: dict[str, Any]) -> bool:
    return (pod.get("status") or {}).get("phase") in TERMINAL


def is_active(pod: dict[str, Any]) -> bool:
    """Counts toward replicas: not finished and not being deleted."""
    return not is_terminal(pod) and not pod["metadata"].get("deletionTimestamp")


def is_terminating(pod: dict[str, Any]) -> bool:
    return bool(pod["metadata"].get("deletionTimestamp")) and not is_terminal(pod)


def ready_condition(pod: dict[str, Any]) -> dict[str, Any] | None:
    for cond in (pod.get("status") or {}).get("conditions") or ():
        if cond.get("type") == "Ready":
            return dict(cond)
    return None


def is_ready(pod: dict[str, Any]) -> bool:
    cond = ready_condition(pod)
    return cond is not None and cond.get("status") == "True"


def is_available(pod: dict[str, Any], min_ready_seconds: int, now: float) -> bool:
    cond = ready_condition(pod)
    if cond is None or cond.get("status") != "True":
        return False
    if min_ready_seconds <= 0:
        return True
    since = cond.get("lastTransitionTime")
    return bool(since) and parse_time(since) + min_ready_seconds <= now


def available_in(pod: dict[str, Any], min_ready_seconds: int, now: float) -> float | None:
    """Seconds until a ready pod becomes available (to requeue the owner then)."""
    cond = ready_condition(pod)
    if cond is None or cond.get("status") != "True" or min_ready_seconds <= 0 or not cond.get("lastTransitionTime"):
        return None
    left = parse_time(cond["lastTransitionTime"]) + min_ready_seconds - now
    return left if left > 0 else None


def controller_ref(owner: dict[str, Any], kind: str, api_version: str) -> dict[str, Any]:
    meta = owner["metadata"]
    return {"apiVersion": api_version, "kind": kind, "name": meta["name"], "uid": meta["uid"],
            "controller": True, "blockOwnerDeletion": True}


def pod_from_template(template: dict[str, Any], owner: dict[str, Any], kind: str, api_version: str,
                      name: str | None = None, extra_labels: dict[str, str] | None = None) -> dict[str, Any]:
    """controller.GetPodFromTemplate: labels, annotations, finalizers and spec of the template,
    generateName `<owner>-` and the owner as controller."""
    meta = template.get("metadata") or {}
    pod_meta: dict[str, Any] = {
        "namespace": owner["metadata"].get("namespace"),
        "labels": {**(meta.get("labels") or {}), **(extra_labels or {})},
        "ownerReferences": [controller_ref(owner, kind, api_version)],
    }
    if name:
        pod_meta["name"] = name
    else:
        pod_meta["generateName"] = f"{owner['metadata']['name']}-"
    if meta.get("annotations"):
        pod_meta["annotations"] = dict(meta["annotations"])
    if meta.get("finalizers"):
        pod_meta["finalizers"] = list(meta["finalizers"])
    return {"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta, "spec": copy.deepcopy(template.get("spec") or {})}


def _restarts(pod: dict[str, Any]) -> int:
    return sum(int(c.get("restartCount") or 0) for c in (pod.get("status") or {}).get("containerStatuses") or ())


def deletion_rank(pod: dict[str, Any], colocated: int = 0) -> tuple[Any, ...]:
    """Sort key: pods that sort first are deleted first when scaling down. Written for speed:
    scaling a set of 10,000 down ranks all of them on each of 20 syncs."""
    meta = pod["metadata"]
    status = pod.get("status") or {}
    ready_since = 0.0
    is_ready_ = False
    for cond in status.get("conditions") or ():
        if cond.get("type") == "Ready":
            if cond.get("status") == "True":
                is_ready_ = True
                since = cond.get("lastTransitionTime")
                ready_since = parse_time(since) if since else 0.0
            break
    annotations = meta.get("annotations")
    cost = 0
    if annotations and DELETION_COST in annotations:
        try:
            cost = int(annotations[DELETION_COST])
        except ValueError:
            cost = 0
    restarts = 0
    for container in status.get("containerStatuses") or ():
        restarts += int(container.get("restartCount") or 0)
    created = meta.get("creationTimestamp")
    return (
        bool((pod.get("spec") or {}).get("nodeName")),
        _PHASE_RANK.get(status.get("phase", ""), 3),
        is_ready_,
        cost,
        -colocated,
        -ready_since,
        -restarts,
        -parse_time(created) if created else float("-inf"),  # newer first; no timestamp first of all
    )


def pods_to_delete(pods: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    """The `count` pods to delete, preferring pods doubled up on a node (getPodsRankedByRelatedPodsOnSameNode)."""
    if count >= len(pods):
        return list(pods)  # all of them go: no ranking needed (scale to zero of a large set)
    per_node: dict[str, int] = {}
    for pod in pods:
        node = (pod.get("spec") or {}).get("nodeName") or ""
        if node:
            per_node[node] = per_node.get(node, 0) + 1
    ranked = sorted(pods, key=lambda p: deletion_rank(p, per_node.get((p.get("spec") or {}).get("nodeName") or "", 0)))
    return ranked[:count]
