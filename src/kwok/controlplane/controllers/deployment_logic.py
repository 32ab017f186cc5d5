"""Deployment decisions (pure), after pkg/controller/deployment and its deploymentutil.

A sync finds the new ReplicaSet (the one whose pod template equals the Deployment's, ignoring the
pod-template-hash label) and the old ones, then takes one step: proportional scaling when
`spec.replicas` changed mid-rollout, else a rolling-update step (scale the new set up within
maxSurge, scale old sets down within maxUnavailable) or a recreate step (old sets to zero, wait
for their pods to go, then the new set to full size). The status and its Available / Progressing
conditions are what `kubectl rollout status` reads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import orjson

from kwok.controlplane.timefmt import parse_time, rfc3339

REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
HASH_LABEL = "pod-template-hash"
SAFE_ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"
NO_PROGRESS_DEADLINE = 2**31 - 1
# annotations of the Deployment that are not copied to its ReplicaSets (skipCopyAnnotation)
_SKIP_COPY = {"kubectl.kubernetes.io/last-applied-configuration", REVISION, REVISION_HISTORY,
              DESIRED_REPLICAS, MAX_REPLICAS, "deprecated.deployment.rollback.to"}


def replicas_of(obj: dict[str, Any]) -> int:
    value = (obj.get("spec") or {}).get("replicas")
    return 1 if value is None else int(value)


def _status_int(rs: dict[str, Any], name: str) -> int:
    return int((rs.get("status") or {}).get(name) or 0)


def _fnv32a(data: bytes) -> int:
    h = 0x811C9DC5
    for b in data:
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def semantic(value: Any) -> Any:
    """The value with nulls and empty maps/lists dropped: what Go's typed decoding and
    `equality.Semantic.DeepEqual` cannot tell apart (`creationTimestamp: null`, `resources: {}`)."""
    if isinstance(value, dict):
        out = {k: semantic(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not None and v != {} and v != []}
    if isinstance(value, list):
        return [semantic(v) for v in value]
    return value


def compute_hash(template: dict[str, Any], collision_count: int | None) -> str:
    """A stable short hash of the pod template, spelled with rand.SafeEncodeString's alphabet."""
    data = orjson.dumps(semantic(template), option=orjson.OPT_SORT_KEYS)
    if collision_count:
        data += collision_count.to_bytes(4, "little")
    return "".join(SAFE_ALPHANUMS[ord(c) % len(SAFE_ALPHANUMS)] for c in str(_fnv32a(data)))


def _without_hash(template: dict[str, Any]) -> dict[str, Any]:
    meta = dict(template.get("metadata") or {})
    labels = dict(meta.get("labels") or {})
    labels.pop(HASH_LABEL, None)
    meta["labels"] = labels
    return {**template, "metadata": meta}


def equal_ignore_hash(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return bool(semantic(_without_hash(a)) == semantic(_without_hash(b)))


def revision(obj: dict[str, Any]) -> int:
    try:
        return int((obj["metadata"].get("annotations") or {}).get(REVISION, "0"))
    except ValueError:
        return 0


def _created(rs: dict[str, Any]) -> tuple[str, str]:
    return (rs["metadata"].get("creationTimestamp") or "", rs["metadata"]["name"])


def split_sets(d: dict[str, Any], sets: list[dict[str, Any]]) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """(new ReplicaSet or None, old ReplicaSets) — the oldest equal template wins, as FindNewReplicaSet."""
    template = (d.get("spec") or {}).get("template") or {}
    ordered = sorted(sets, key=_created)
    new = next((rs for rs in ordered if equal_ignore_hash((rs.get("spec") or {}).get("template") or {}, template)),
               None)
    return new, [rs for rs in ordered if rs is not new]


def _resolve(value: Any, total: int, round_up: bool) -> int:
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    text = str(value)
    if text.endswith("%"):
        fraction = int(text[:-1]) * total / 100
        return math.ceil(fraction) if round_up else math.floor(fraction)
    return int(text)


def fenceposts(d: dict[str, Any]) -> tuple[int, int]:
    """(maxSurge, maxUnavailable) resolved against spec.replicas; both zero becomes (0, 1)."""
    strategy = (d.get("spec") or {}).get("strategy") or {}
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        return 0, 0
    rolling = strategy.get("rollingUpdate") or {}
    replicas = replicas_of(d)
    surge = _resolve(rolling.get("maxSurge", "25%"), replicas, True)
    unavailable = _resolve(rolling.get("maxUnavailable", "25%"), replicas, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def max_unavailable(d: dict[str, Any]) -> int:
    strategy = ((d.get("spec") or {}).get("strategy") or {}).get("type", "RollingUpdate")
    if strategy != "RollingUpdate" or replicas_of(d) == 0:
        return 0
    return min(fenceposts(d)[1], replicas_of(d))


def new_rs_template(d: dict[str, Any], pod_hash: str) -> dict[str, Any]:
    template = _without_hash((d.get("spec") or {}).get("template") or {})
    template["metadata"]["labels"][HASH_LABEL] = pod_hash
    return template


def new_rs_replicas(d: dict[str, Any], all_sets: list[dict[str, Any]], new: dict[str, Any] | None) -> int:
    """NewRSNewReplicas: how big the new set may be now."""
    new_replicas = replicas_of(new) if new is not None else 0
    strategy = ((d.get("spec") or {}).get("strategy") or {}).get("type", "RollingUpdate")
    if strategy != "RollingUpdate":
        return replicas_of(d)
    surge, _ = fenceposts(d)
    current = sum(replicas_of(rs) for rs in all_sets)
    max_total = replicas_of(d) + surge
    if current >= max_total:
        return new_replicas
    return new_replicas + min(max_total - current, replicas_of(d) - new_replicas)


def scale_down_old(d: dict[str, Any], all_sets: list[dict[str, Any]], old: list[dict[str, Any]],
                   new: dict[str, Any] | None) -> dict[str, int]:
    """reconcileOldReplicaSets: new sizes for old sets (unhealthy replicas first, then oldest first)."""
    old_total = sum(replicas_of(rs) for rs in old)
    if old_total == 0:
        return {}
    sizes = {rs["metadata"]["name"]: replicas_of(rs) for rs in all_sets}
    all_total = sum(sizes.values())
    min_available = replicas_of(d) - max_unavailable(d)
    new_unavailable = (replicas_of(new) - _status_int(new, "availableReplicas")) if new is not None else 0
    budget = all_total - min_available - new_unavailable
    if budget <= 0:
        return {}
    changes: dict[str, int] = {}
    cleaned = 0
    for rs in sorted(old, key=_created):
        if cleaned >= budget:
            break
        name, size = rs["metadata"]["name"], sizes[rs["metadata"]["name"]]
        unhealthy = size - _status_int(rs, "availableReplicas")
        if size == 0 or unhealthy <= 0:
            continue
        down = min(budget - cleaned, unhealthy)
        changes[name] = sizes[name] = size - down
        cleaned += down
    available = sum(_status_int(rs, "availableReplicas") for rs in all_sets)
    if available > min_available:
        total_down, done = available - min_available, 0
        for rs in sorted(old, key=_created):
            name = rs["metadata"]["name"]
            if done >= total_down:
                break
            if sizes[name] == 0:
                continue
            down = min(sizes[name], total_down - done)
            changes[name] = sizes[name] = sizes[name] - down
            done += down
    return changes


def is_scaling_event(d: dict[str, Any], sets: list[dict[str, Any]]) -> bool:
    for rs in sets:
        if replicas_of(rs) <= 0:
            continue
        desired = (rs["metadata"].get("annotations") or {}).get(DESIRED_REPLICAS)
        if desired is not None and desired != str(replicas_of(d)):
            return True
    return False


def proportional_sizes(d: dict[str, Any], sets: list[dict[str, Any]], new: dict[str, Any] | None) -> dict[str, int]:
    """Deployment.scale: spread a change of spec.replicas over the active sets by their size."""
    active = [rs for rs in sets if replicas_of(rs) > 0]
    target = replicas_of(d)
    if len(active) <= 1:
        only = active[0] if active else new
        if only is None:
            return {}
        return {only["metadata"]["name"]: target}
    surge, _ = fenceposts(d)
    allowed = target + surge if target > 0 else 0
    current = sum(replicas_of(rs) for rs in active)
    to_add = allowed - current
    if to_add == 0:
        return {}
    newer_first = to_add > 0
    if newer_first:  # ReplicaSetsBySizeNewer: largest first, newest among equals
        ordered = sorted(active, key=lambda rs: (replicas_of(rs), _created(rs)), reverse=True)
    else:  # ReplicaSetsBySizeOlder: largest first, oldest among equals
        ordered = sorted(active, key=lambda rs: (-replicas_of(rs), _created(rs)))
    sizes: dict[str, int] = {}
    added = 0
    for rs in ordered:
        name, size = rs["metadata"]["name"], replicas_of(rs)
        if target == 0:
            proportion = -size
        else:
            annotated = _annotated_max(rs, d)
            proportion = math.ceil(size * allowed / annotated) - size if annotated else 0
        proportion = min(proportion, to_add - added) if to_add > 0 else max(proportion, to_add - added)
        sizes[name] = size + proportion
        added += proportion
    if ordered and added != to_add:
        first = ordered[0]["metadata"]["name"]
        sizes[first] = max(sizes[first] + (to_add - added), 0)
    return {n: s for n, s in sizes.items()
            if s != replicas_of(next(rs for rs in active if rs["metadata"]["name"] == n))}


def _annotated_max(rs: dict[str, Any], d: dict[str, Any]) -> int:
    try:
        return int((rs["metadata"].get("annotations") or {})[MAX_REPLICAS])
    except (KeyError, ValueError):
        return int((d.get("status") or {}).get("replicas") or 0)


def replica_set_annotations(d: dict[str, Any], rs_revision: int | None) -> dict[str, str]:
    """What a set owned by `d` carries: the Deployment's copyable annotations, desired and max
    replicas and (when given) the revision."""
    out = {k: v for k, v in (d["metadata"].get("annotations") or {}).items() if k not in _SKIP_COPY}
    surge, _ = fenceposts(d)
    out[DESIRED_REPLICAS] = str(replicas_of(d))
    out[MAX_REPLICAS] = str(replicas_of(d) + surge)
    if rs_revision is not None:
        out[REVISION] = str(rs_revision)
    return out


def cleanup_candidates(d: dict[str, Any], old: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Old sets beyond revisionHistoryLimit (default 10) that are empty, oldest revision first."""
    limit = (d.get("spec") or {}).get("revisionHistoryLimit")
    limit = 10 if limit is None else int(limit)
    empty = [rs for rs in old if replicas_of(rs) == 0 and _status_int(rs, "replicas") == 0
             and not rs["metadata"].get("deletionTimestamp")]
    excess = len(old) - limit
    if excess <= 0:
        return []
    return sorted(empty, key=lambda rs: (revision(rs), _created(rs)))[:excess]


# --- status ------------------------------------------------------------------------------


@dataclass
class StatusInputs:
    deployment: dict[str, Any]
    all_sets: list[dict[str, Any]]
    new: dict[str, Any] | None
    now: float
    failures: list[dict[str, Any]] = field(default_factory=list)


def _condition(type_: str, status: str, reason: str, message: str, now: float) -> dict[str, Any]:
    stamp = rfc3339(now)
    return {"type": type_, "status": status, "lastUpdateTime": stamp, "lastTransitionTime": stamp,
            "reason": reason, "message": message}


def set_condition(conditions: list[dict[str, Any]], cond: dict[str, Any]) -> list[dict[str, Any]]:
    """SetDeploymentCondition: unchanged status+reason keeps the old one; same status keeps its
    lastTransitionTime."""
    current = next((c for c in conditions if c.get("type") == cond["type"]), None)
    if current is not None and current.get("status") == cond["status"] and current.get("reason") == cond["reason"]:
        return conditions
    if current is not None and current.get("status") == cond["status"]:
        cond = {**cond, "lastTransitionTime": current.get("lastTransitionTime")}
    return [c for c in conditions if c.get("type") != cond["type"]] + [cond]


def calculate_status(inp: StatusInputs) -> dict[str, Any]:
    d, sets = inp.deployment, inp.all_sets
    available = sum(_status_int(rs, "availableReplicas") for rs in sets)
    total = sum(replicas_of(rs) for rs in sets)
    status: dict[str, Any] = {
        "observedGeneration": d["metadata"].get("generation", 0),
        "replicas": sum(_status_int(rs, "replicas") for rs in sets),
        "updatedReplicas": _status_int(inp.new, "replicas") if inp.new is not None else 0,
        "readyReplicas": sum(_status_int(rs, "readyReplicas") for rs in sets),
        "availableReplicas": available,
        "unavailableReplicas": max(total - available, 0),
        "terminatingReplicas": sum(_status_int(rs, "terminatingReplicas") for rs in sets),
    }
    collisions = (d.get("status") or {}).get("collisionCount")
    if collisions is not None:
        status["collisionCount"] = collisions
    conditions = list((d.get("status") or {}).get("conditions") or ())
    if available >= replicas_of(d) - max_unavailable(d):
        cond = _condition("Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.",
                          inp.now)
    else:
        cond = _condition("Available", "False", "MinimumReplicasUnavailable",
                          "Deployment does not have minimum availability.", inp.now)
    status["conditions"] = set_condition(conditions, cond)
    return status


def complete(d: dict[str, Any], status: dict[str, Any]) -> bool:
    want = replicas_of(d)
    return (status.get("updatedReplicas") == want and status.get("replicas") == want
            and status.get("availableReplicas") == want
            and status.get("observedGeneration", 0) >= d["metadata"].get("generation", 0))


def _progressing(d: dict[str, Any], new: dict[str, Any]) -> bool:
    old = d.get("status") or {}
    old_old = int(old.get("replicas") or 0) - int(old.get("updatedReplicas") or 0)
    new_old = new["replicas"] - new["updatedReplicas"]
    return bool(new["updatedReplicas"] > int(old.get("updatedReplicas") or 0) or new_old < old_old
            or new["readyReplicas"] > int(old.get("readyReplicas") or 0)
            or new["availableReplicas"] > int(old.get("availableReplicas") or 0))


def progress_deadline(d: dict[str, Any]) -> int:
    value = (d.get("spec") or {}).get("progressDeadlineSeconds")
    return 600 if value is None else int(value)


def timed_out(d: dict[str, Any], now: float) -> bool:
    cond = next((c for c in (d.get("status") or {}).get("conditions") or () if c.get("type") == "Progressing"), None)
    if cond is None or cond.get("reason") == "NewReplicaSetAvailable":
        return False
    if cond.get("reason") == "ProgressDeadlineExceeded":
        return True
    updated = cond.get("lastUpdateTime")
    return bool(updated) and bool(parse_time(updated) + progress_deadline(d) < now)


def rollout_status(inp: StatusInputs) -> dict[str, Any]:
    """syncRolloutStatus: calculateStatus plus the Progressing and ReplicaFailure conditions."""
    d, new, now = inp.deployment, inp.new, inp.now
    status = calculate_status(inp)
    conditions: list[dict[str, Any]] = status["conditions"]
    current = next((c for c in conditions if c.get("type") == "Progressing"), None)
    has_deadline = progress_deadline(d) != NO_PROGRESS_DEADLINE
    if not has_deadline:
        conditions = [c for c in conditions if c.get("type") != "Progressing"]
    finished = (status["replicas"] == status["updatedReplicas"] and current is not None
                and current.get("reason") == "NewReplicaSetAvailable")
    if has_deadline and not finished:
        rs_name = new["metadata"]["name"] if new is not None else ""
        if complete(d, status):
            conditions = set_condition(conditions, _condition(
                "Progressing", "True", "NewReplicaSetAvailable",
                f'ReplicaSet "{rs_name}" has successfully progressed.', now))
        elif _progressing(d, status):
            cond = _condition("Progressing", "True", "ReplicaSetUpdated",
                              f'ReplicaSet "{rs_name}" is progressing.' if new is not None
                              else f'Deployment "{d["metadata"]["name"]}" is progressing.', now)
            if current is not None and current.get("status") == "True":
                cond["lastTransitionTime"] = current.get("lastTransitionTime")
            conditions = [c for c in conditions if c.get("type") != "Progressing"] + [cond]
        elif timed_out(d, now):
            conditions = set_condition(conditions, _condition(
                "Progressing", "False", "ProgressDeadlineExceeded",
                f'ReplicaSet "{rs_name}" has timed out progressing.', now))
    if inp.failures:
        conditions = set_condition(conditions, inp.failures[0])
    else:
        conditions = [c for c in conditions if c.get("type") != "ReplicaFailure"]
    status["conditions"] = conditions
    return status


def progressing_on_new_set(d: dict[str, Any], reason: str, message: str, now: float) -> list[dict[str, Any]] | None:
    """The Progressing condition written when a new set is created or first found."""
    conditions = list((d.get("status") or {}).get("conditions") or ())
    if progress_deadline(d) == NO_PROGRESS_DEADLINE:
        return None
    current = next((c for c in conditions if c.get("type") == "Progressing"), None)
    if reason == "FoundNewReplicaSet" and current is not None:
        return None
    updated = set_condition(conditions, _condition("Progressing", "True", reason, message, now))
    return None if updated == conditions else updated
