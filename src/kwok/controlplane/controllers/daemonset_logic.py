"""DaemonSet decisions (pure): which nodes should run a daemon pod, what to create and delete,
the rolling update step, and the status.

A node is eligible when the pod template's node selector / required affinity match it and its
NoSchedule / NoExecute taints are tolerated, counting the tolerations every daemon pod gets
(not-ready, unreachable, disk/memory/pid pressure, unschedulable; network-unavailable for host
network pods). Daemon pods are pinned with a required node affinity on `metadata.name` and go
through the scheduler, as since Kubernetes 1.12.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import orjson

from kwok.controlplane.controllers.deployment_logic import SAFE_ALPHANUMS, _fnv32a, _resolve
from kwok.controlplane.controllers.pods import is_active, is_available, is_ready
from kwok.controlplane.scheduler.nodeaffinity import first_untolerated, pod_matches_node

REVISION_LABEL = "controller-revision-hash"
DAEMON_TOLERATIONS = [
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
]
HOST_NETWORK_TOLERATION = {"key": "node.kubernetes.io/network-unavailable", "operator": "Exists", "effect": "NoSchedule"}


def template_hash(ds: dict[str, Any]) -> str:
    data = orjson.dumps((ds.get("spec") or {}).get("template") or {}, option=orjson.OPT_SORT_KEYS)
    return "".join(SAFE_ALPHANUMS[ord(c) % len(SAFE_ALPHANUMS)] for c in str(_fnv32a(data)))


def daemon_tolerations(spec: dict[str, Any]) -> list[dict[str, Any]]:
    extra = list(DAEMON_TOLERATIONS)
    if spec.get("hostNetwork"):
        extra.append(HOST_NETWORK_TOLERATION)
    have = spec.get("tolerations") or []
    return have + [t for t in extra if t not in have]


def eligible(ds: dict[str, Any], node: dict[str, Any]) -> bool:
    spec = ((ds.get("spec") or {}).get("template") or {}).get("spec") or {}
    name, labels = node["metadata"]["name"], node["metadata"].get("labels") or {}
    if not pod_matches_node(spec, name, labels):
        return False
    taints = (node.get("spec") or {}).get("taints") or []
    return first_untolerated(taints, daemon_tolerations(spec), ("NoSchedule", "NoExecute")) is None


def pod_spec_for(ds: dict[str, Any], node: str) -> dict[str, Any]:
    """The template's spec pinned to `node` (required affinity on metadata.name), with the daemon
    tolerations."""
    spec = copy.deepcopy(((ds.get("spec") or {}).get("template") or {}).get("spec") or {})
    spec["tolerations"] = daemon_tolerations(spec)
    term = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}
    affinity = spec.setdefault("affinity", {}).setdefault("nodeAffinity", {})
    affinity["requiredDuringSchedulingIgnoredDuringExecution"] = {"nodeSelectorTerms": [term]}
    return spec


def pod_target_node(pod: dict[str, Any]) -> str | None:
    spec = pod.get("spec") or {}
    if spec.get("nodeName"):
        return str(spec["nodeName"])
    required = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get("requiredDuringSchedulingIgnoredDuringExecution")
    for term in (required or {}).get("nodeSelectorTerms") or ():
        for field_ in term.get("matchFields") or ():
            if field_.get("key") == "metadata.name" and field_.get("values"):
                return str(field_["values"][0])
    return None


@dataclass
class DaemonPlan:
    create_on: list[str] = field(default_factory=list)
    delete: list[dict[str, Any]] = field(default_factory=list)
    status: dict[str, Any] = field(default_factory=dict)


def plan(ds: dict[str, Any], nodes: list[dict[str, Any]], pods: list[dict[str, Any]], now: float) -> DaemonPlan:
    current_hash = template_hash(ds)
    spec = ds.get("spec") or {}
    min_ready = int(spec.get("minReadySeconds") or 0)
    by_node: dict[str, list[dict[str, Any]]] = {}
    for pod in pods:
        target = pod_target_node(pod)
        if target is not None and is_active(pod):
            by_node.setdefault(target, []).append(pod)
    wanted = {n["metadata"]["name"] for n in nodes if eligible(ds, n)}
    p = DaemonPlan()
    for name in sorted(wanted):
        running = by_node.get(name, [])
        if not running:
            p.create_on.append(name)
        for extra in sorted(running, key=lambda x: x["metadata"].get("creationTimestamp") or "")[1:]:
            p.delete.append(extra)
    for name, running in by_node.items():
        if name not in wanted:
            p.delete.extend(running)
    daemon_pods = [by_node[n][0] for n in wanted if by_node.get(n)]
    old = [pod for pod in daemon_pods if (pod["metadata"].get("labels") or {}).get(REVISION_LABEL) != current_hash]
    strategy = spec.get("updateStrategy") or {}
    if old and strategy.get("type", "RollingUpdate") == "RollingUpdate":
        max_unavailable = max(_resolve((strategy.get("rollingUpdate") or {}).get("maxUnavailable", 1), len(wanted), True), 1)
        unavailable = sum(1 for n in wanted if not any(is_available(x, min_ready, now) for x in by_node.get(n, [])))
        budget = max_unavailable - unavailable
        for pod in sorted(old, key=lambda x: is_ready(x)):
            if budget <= 0 and is_available(pod, min_ready, now):
                break
            p.delete.append(pod)
            budget -= int(is_available(pod, min_ready, now))
    scheduled = {pod_target_node(x) for x in daemon_pods if (x.get("spec") or {}).get("nodeName")}
    misscheduled = sum(1 for n, running in by_node.items() if n not in wanted and
                       any((x.get("spec") or {}).get("nodeName") for x in running))
    available = sum(1 for x in daemon_pods if is_available(x, min_ready, now))
    p.status = {
        "currentNumberScheduled": len(scheduled), "numberMisscheduled": misscheduled,
        "desiredNumberScheduled": len(wanted), "numberReady": sum(1 for x in daemon_pods if is_ready(x)),
        "updatedNumberScheduled": sum(1 for x in daemon_pods if (x["metadata"].get("labels") or {}).get(REVISION_LABEL)
                                      == current_hash and (x.get("spec") or {}).get("nodeName")),
        "numberAvailable": available, "numberUnavailable": len(wanted) - available,
        "observedGeneration": ds["metadata"].get("generation", 0),
    }
    if (ds.get("status") or {}).get("collisionCount") is not None:
        p.status["collisionCount"] = ds["status"]["collisionCount"]
    return p
