"""Node lifecycle decisions (pure): is a node's kubelet still posting status, which taints its
conditions call for, and when a pod on a tainted node must go.

A node is heard from through its Ready condition's lastHeartbeatTime or its Lease's renewTime,
whichever is later; silent for longer than the grace period, its conditions become Unknown
("Kubelet stopped posting node status.") and it gets the unreachable taints. Taints follow
conditions as TaintNodesByCondition and the NoExecute taint manager do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kwok.controlplane.scheduler.nodeaffinity import tolerates
from kwok.controlplane.timefmt import parse_time, rfc3339

NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"
UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
CONDITION_TAINTS = {  # condition type, status -> NoSchedule taint key
    ("MemoryPressure", "True"): "node.kubernetes.io/memory-pressure",
    ("DiskPressure", "True"): "node.kubernetes.io/disk-pressure",
    ("PIDPressure", "True"): "node.kubernetes.io/pid-pressure",
    ("NetworkUnavailable", "True"): "node.kubernetes.io/network-unavailable",
}
MANAGED_KEYS = {NOT_READY, UNREACHABLE, UNSCHEDULABLE, *CONDITION_TAINTS.values()}
UNKNOWN_CONDITIONS = ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure")


def _condition(node: dict[str, Any], type_: str) -> dict[str, Any] | None:
    for cond in (node.get("status") or {}).get("conditions") or ():
        if cond.get("type") == type_:
            return dict(cond)
    return None


def last_heard(node: dict[str, Any], lease: dict[str, Any] | None) -> float | None:
    times = []
    ready = _condition(node, "Ready")
    if ready is not None and ready.get("lastHeartbeatTime"):
        times.append(parse_time(ready["lastHeartbeatTime"]))
    renew = ((lease or {}).get("spec") or {}).get("renewTime")
    if renew:
        times.append(parse_time(renew))
    return max(times) if times else None


def _health(node: dict[str, Any]) -> list[tuple[Any, Any]]:
    return [(c.get("type"), c.get("status")) for c in (node.get("status") or {}).get("conditions") or ()]


def same_health(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether an update changed nothing the node controller decides on but heartbeat times:
    the conditions' statuses, the taints and unschedulable."""
    return (old.get("spec") or {}) == (new.get("spec") or {}) and _health(old) == _health(new)


def silent_after(node: dict[str, Any], lease: dict[str, Any] | None, grace: float, startup_grace: float) -> float:
    """When the node, unless heard from again, is to be marked Unknown."""
    heard = last_heard(node, lease)
    if heard is not None:
        return heard + grace
    created = node["metadata"].get("creationTimestamp")
    return parse_time(created) + startup_grace if created else 0.0


def unknown_conditions(node: dict[str, Any], lease: dict[str, Any] | None, now: float, grace: float,
                       startup_grace: float) -> list[dict[str, Any]] | None:
    """The node's conditions after marking it Unknown, or None while it is heard from."""
    heard = last_heard(node, lease)
    if heard is None:
        created = node["metadata"].get("creationTimestamp")
        if created and parse_time(created) + startup_grace > now:
            return None
        reason, message = "NodeStatusNeverUpdated", "Kubelet never posted node status."
    elif heard + grace > now:
        return None
    else:
        reason, message = "NodeStatusUnknown", "Kubelet stopped posting node status."
    conditions = [dict(c) for c in (node.get("status") or {}).get("conditions") or ()]
    by_type = {c.get("type"): c for c in conditions}
    changed = False
    for type_ in UNKNOWN_CONDITIONS:
        cond = by_type.get(type_)
        if cond is None:
            conditions.append({"type": type_, "status": "Unknown", "reason": reason, "message": message,
                               "lastHeartbeatTime": None, "lastTransitionTime": rfc3339(now)})
            changed = True
        elif cond.get("status") != "Unknown":
            cond.update(status="Unknown", reason=reason, message=message, lastTransitionTime=rfc3339(now))
            changed = True
    return conditions if changed else None


def wanted_taints(node: dict[str, Any], now: float) -> list[dict[str, Any]] | None:
    """spec.taints with the condition taints brought up to date, or None when nothing changes."""
    spec = node.get("spec") or {}
    current = list(spec.get("taints") or ())
    ready = _condition(node, "Ready")
    status = (ready or {}).get("status", "Unknown") if ready is not None else None
    wanted: set[tuple[str, str]] = set()
    if status == "False":
        wanted |= {(NOT_READY, "NoSchedule"), (NOT_READY, "NoExecute")}
    elif status == "Unknown":
        wanted |= {(UNREACHABLE, "NoSchedule"), (UNREACHABLE, "NoExecute")}
    for (type_, value), key in CONDITION_TAINTS.items():
        cond = _condition(node, type_)
        if cond is not None and cond.get("status") == value:
            wanted.add((key, "NoSchedule"))
    if spec.get("unschedulable"):
        wanted.add((UNSCHEDULABLE, "NoSchedule"))
    have = {(t.get("key"), t.get("effect")) for t in current if t.get("key") in MANAGED_KEYS}
    if have == wanted:
        return None
    kept = [t for t in current if t.get("key") not in MANAGED_KEYS or (t.get("key"), t.get("effect")) in wanted]
    for key, effect in sorted(wanted - have):
        taint: dict[str, Any] = {"key": key, "effect": effect}
        if effect == "NoExecute":
            taint["timeAdded"] = rfc3339(now)
        kept.append(taint)
    return kept


@dataclass(frozen=True)
class Eviction:
    at: float | None  # None: the pod may stay


def eviction_time(pod: dict[str, Any], taints: list[dict[str, Any]], now: float) -> Eviction:
    """When the NoExecute taints of the pod's node evict it (the taint manager's rule): at once
    for an untolerated taint, else after the shortest tolerationSeconds of the tolerations used."""
    tolerations = (pod.get("spec") or {}).get("tolerations") or []
    deadline: float | None = None
    for taint in taints:
        if taint.get("effect") != "NoExecute":
            continue
        matching = [t for t in tolerations if tolerates(t, taint)]
        if not matching:
            return Eviction(now)
        bounded = [int(t["tolerationSeconds"]) for t in matching if t.get("tolerationSeconds") is not None]
        if not bounded or len(bounded) < len(matching):
            continue  # some matching toleration lasts forever
        added = parse_time(taint["timeAdded"]) if taint.get("timeAdded") else now
        at = added + max(min(bounded), 0)
        deadline = at if deadline is None else min(deadline, at)
    return Eviction(deadline)
