"""The PodScheduled condition the scheduler writes on pods it cannot place (pure).

`lastTransitionTime` changes only when the condition's status does (podutil.UpdatePodCondition);
no patch at all when nothing would change, so a pod retried every few seconds does not churn.
"""

from __future__ import annotations

from typing import Any

from kwok.controlplane.timefmt import rfc3339

GATED_MESSAGE = "Scheduling is blocked due to non-empty scheduling gates"


def _with_condition(pod: dict[str, Any], reason: str, message: str, now: float) -> list[dict[str, Any]] | None:
    conditions = list((pod.get("status") or {}).get("conditions") or ())
    current = next((c for c in conditions if c.get("type") == "PodScheduled"), None)
    wanted = {"type": "PodScheduled", "status": "False", "lastProbeTime": None, "reason": reason, "message": message}
    if current is not None and all(current.get(k) == wanted[k] for k in ("status", "reason", "message")):
        return None
    same_status = current is not None and current.get("status") == "False"
    wanted["lastTransitionTime"] = current.get("lastTransitionTime") if same_status and current else rfc3339(now)
    return [c for c in conditions if c.get("type") != "PodScheduled"] + [wanted]


def failed_condition_patch(pod: dict[str, Any], message: str, now: float,
                           nominated_node: str | None = None) -> dict[str, Any] | None:
    conditions = _with_condition(pod, "Unschedulable", message, now)
    status: dict[str, Any] = {}
    if conditions is not None:
        status["conditions"] = conditions
    current_nomination = (pod.get("status") or {}).get("nominatedNodeName")
    if nominated_node and nominated_node != current_nomination:
        status["nominatedNodeName"] = nominated_node
    return {"status": status} if status else None


def gated_condition_patch(pod: dict[str, Any], now: float) -> dict[str, Any] | None:
    conditions = _with_condition(pod, "SchedulingGated", GATED_MESSAGE, now)
    return None if conditions is None else {"status": {"conditions": conditions}}
