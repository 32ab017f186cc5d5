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

from kwok.controlplane.controllers import history
from kwok.controlplane.controllers.deployment_logic import _resolve, compute_hash
from kwok.controlplane.controllers.pods import is_available, is_ready, is_terminal
from kwok.controlplane.scheduler.nodeaffinity import first_untolerated, pod_matches_node

REVISION_LABEL = history.HASH_LABEL
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
    """controller.ComputeHash of the pod template and the collision count, as for a Deployment."""
    return compute_hash((ds.get("spec") or {}).get("template") or {},
                        int((ds.get("status") or {}).get("collisionCount") or 0))


@dataclass
class HistoryChoice:
    current: dict[str, Any]
    old: list[dict[str, Any]]
    create: bool = False      # `current` is new: create it
    renumber: bool = False    # `current` is an older revision brought back: write its new number


def choose_history(ds: dict[str, Any], revisions: list[dict[str, Any]]) -> HistoryChoice:
    """constructHistory: the revision whose data is the set's template is current (made anew when
    there is none) and numbered above every other."""
    data = history.template_patch(ds)
    matching = [r for r in revisions if history.equal(r, {"data": data})]
    old = [r for r in revisions if not any(r is m for m in matching)]
    number = max((int(r.get("revision") or 0) for r in old), default=0) + 1
    if not matching:
        hash_ = template_hash(ds)
        current = history.new_revision(ds, "DaemonSet", data, number, 0, hash_)
        return HistoryChoice(current, old, create=True)
    current = max(matching, key=lambda r: int(r.get("revision") or 0))
    if int(current.get("revision") or 0) < number:
        return HistoryChoice({**current, "revision": number}, old, renumber=True)
    return HistoryChoice(current, old)


def history_to_delete(ds: dict[str, Any], old: list[dict[str, Any]], pods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """cleanupHistory: the oldest revisions beyond revisionHistoryLimit that no pod still runs."""
    limit = int((ds.get("spec") or {}).get("revisionHistoryLimit", 10) or 0)
    excess = len(old) - limit
    live = {(p["metadata"].get("labels") or {}).get(REVISION_LABEL) for p in pods}
    doomed = []
    for rev in history.ordered(old):
        if excess <= 0:
            break
        if (rev["metadata"].get("labels") or {}).get(REVISION_LABEL) not in live:
            doomed.append(rev)
            excess -= 1
    return doomed


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
    failed: list[tuple[dict[str, Any], str]] = field(default_factory=list)  # (finished daemon pod, its node)
    status: dict[str, Any] = field(default_factory=dict)

    def delete_once(self, pod: dict[str, Any]) -> None:
        if all(p is not pod for p in self.delete):
            self.delete.append(pod)


def _phase(pod: dict[str, Any]) -> str:
    return str((pod.get("status") or {}).get("phase") or "")


def _deleting(pod: dict[str, Any]) -> bool:
    return bool(pod["metadata"].get("deletionTimestamp"))


def _oldest_first(pod: dict[str, Any]) -> tuple[bool, str, str]:
    """podByCreationTimestampAndPhase: scheduled pods first, then the oldest, then by name."""
    return (not (pod.get("spec") or {}).get("nodeName"), pod["metadata"].get("creationTimestamp") or "",
            pod["metadata"]["name"])


def _updated(pod: dict[str, Any], current_hash: str) -> bool:
    return (pod["metadata"].get("labels") or {}).get(REVISION_LABEL) == current_hash


def surge_and_unavailable(ds: dict[str, Any], desired: int) -> tuple[int, int]:
    """maxSurge and maxUnavailable of the rolling update, percentages of the desired number of
    nodes rounded up; both 0 means maxUnavailable 1."""
    strategy = (ds.get("spec") or {}).get("updateStrategy") or {}
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        return 0, 1
    rolling = strategy.get("rollingUpdate") or {}
    surge = _resolve(rolling.get("maxSurge", 0), desired, True)
    unavailable = _resolve(rolling.get("maxUnavailable", 1), desired, True)
    return (surge, 1) if surge == 0 and unavailable == 0 else (surge, unavailable)


@dataclass
class _Sync:
    ds: dict[str, Any]
    hash: str
    min_ready: int
    now: float
    out: DaemonPlan


def plan(ds: dict[str, Any], nodes: list[dict[str, Any]], pods: list[dict[str, Any]], now: float,
         current_hash: str | None = None) -> DaemonPlan:
    """One sync: create on eligible nodes without a daemon pod, delete finished, surplus and
    misplaced pods (manage), then take a rolling-update step, then the status. `current_hash` is
    the current revision's hash label (by default the template's hash)."""
    spec = ds.get("spec") or {}
    s = _Sync(ds, current_hash or template_hash(ds), int(spec.get("minReadySeconds") or 0), now, DaemonPlan())
    by_node: dict[str, list[dict[str, Any]]] = {}
    for pod in pods:
        target = pod_target_node(pod)
        if target is not None and not (is_terminal(pod) and _deleting(pod)):
            by_node.setdefault(target, []).append(pod)
    wanted = {n["metadata"]["name"] for n in nodes if eligible(ds, n)}
    surge, unavailable = surge_and_unavailable(ds, len(wanted))
    for name in sorted(wanted):
        if not by_node.get(name):
            s.out.create_on.append(name)
        else:
            _manage_node(s, name, by_node[name], surge > 0)
    for name, on_node in by_node.items():
        if name not in wanted:
            for pod in on_node:
                if not _deleting(pod):
                    s.out.delete_once(pod)
    acted = bool(s.out.create_on or s.out.delete)  # the rolling update waits until those are observed
    if not acted and (spec.get("updateStrategy") or {}).get("type", "RollingUpdate") == "RollingUpdate":
        if surge == 0:
            _roll_without_surge(s, by_node, unavailable)
        else:
            _roll_with_surge(s, by_node, wanted, surge)
    s.out.status = _status(s, by_node, wanted)
    return s.out


def _manage_node(s: _Sync, node: str, on_node: list[dict[str, Any]], surging: bool) -> None:
    """podsShouldBeOnNode for a node that should run the daemon: a finished pod is deleted (and
    replaced on a later sync), one pod is kept (two while a surge replaces an old one)."""
    running = []
    for pod in on_node:
        if _deleting(pod):
            continue
        if is_terminal(pod):
            s.out.delete_once(pod)
            s.out.failed.append((pod, node))
        else:
            running.append(pod)
    running.sort(key=_oldest_first)
    if len(running) <= 1:
        return
    if not surging:
        for pod in running[1:]:
            s.out.delete_once(pod)
        return
    newest: dict[str, Any] | None = None
    oldest_old: dict[str, Any] | None = None
    for pod in running:
        if _updated(pod, s.hash) and newest is None:
            newest = pod
        elif not _updated(pod, s.hash) and oldest_old is None:
            oldest_old = pod
        else:
            s.out.delete_once(pod)
    if newest is not None and oldest_old is not None and \
            (not is_ready(oldest_old) or is_available(newest, s.min_ready, s.now)):
        s.out.delete_once(oldest_old)


def _new_and_old(s: _Sync, on_node: list[dict[str, Any]]) -> tuple[dict[str, Any] | None, dict[str, Any] | None, bool]:
    """findUpdatedPodsOnNode: the node's up-to-date and outdated pod; False when it has more than
    one of either (the manage step cleans that up first)."""
    new = old = None
    for pod in on_node:
        if _deleting(pod):
            continue
        if _updated(pod, s.hash):
            if new is not None:
                return None, None, False
            new = pod
        else:
            if old is not None:
                return None, None, False
            old = pod
    return new, old, True


def _roll_without_surge(s: _Sync, by_node: dict[str, list[dict[str, Any]]], max_unavailable: int) -> None:
    """Delete outdated pods while the unavailable nodes stay within maxUnavailable; an outdated
    pod that is not available anyway is always replaced."""
    unavailable = 0
    replace: list[dict[str, Any]] = []
    candidates: list[dict[str, Any]] = []
    for name in sorted(by_node):
        new, old, ok = _new_and_old(s, by_node[name])
        if not ok or (new is None) == (old is None):
            unavailable += 1
        elif new is not None:
            unavailable += not is_available(new, s.min_ready, s.now)
        elif old is not None and not is_available(old, s.min_ready, s.now):
            replace.append(old)
            unavailable += 1
        elif old is not None and unavailable < max_unavailable:
            candidates.append(old)
    room = min(max(max_unavailable - unavailable, 0), len(candidates))
    for pod in replace + candidates[:room]:
        s.out.delete_once(pod)


def _roll_with_surge(s: _Sync, by_node: dict[str, list[dict[str, Any]]], wanted: set[str], max_surge: int) -> None:
    """Start the new pod beside the old one on up to maxSurge nodes (at once where the old one is
    unavailable); the old pod goes when the new one is available."""
    surging = 0
    available = 0
    allowed: list[str] = []
    candidates: list[str] = []
    misplaced: list[dict[str, Any]] = []
    for name in sorted(by_node):
        new, old, ok = _new_and_old(s, by_node[name])
        if not ok:
            surging += 1
            continue
        if (old or new) is not None and is_available(old or new or {}, s.min_ready, s.now):
            available += 1
        if old is None:
            continue
        if new is None:
            if name not in wanted:
                (s.out.delete_once if not is_available(old, s.min_ready, s.now) else misplaced.append)(old)
            elif not is_available(old, s.min_ready, s.now):
                allowed.append(name)
            elif surging < max_surge:
                candidates.append(name)
        elif not is_available(new, s.min_ready, s.now):
            surging += 1
        else:
            s.out.delete_once(old)
    # a pod on a node the daemon no longer fits goes only once enough others are available
    for pod in misplaced[:max(available - len(wanted), 0)]:
        s.out.delete_once(pod)
    for name in allowed + candidates[:max(max_surge - surging, 0)]:
        if name not in s.out.create_on:
            s.out.create_on.append(name)


def _status(s: _Sync, by_node: dict[str, list[dict[str, Any]]], wanted: set[str]) -> dict[str, Any]:
    first = {n: sorted(by_node[n], key=_oldest_first)[0] for n in wanted if by_node.get(n)}
    ready = [p for p in first.values() if is_ready(p)]
    available = sum(1 for p in ready if is_available(p, s.min_ready, s.now))
    status: dict[str, Any] = {
        "currentNumberScheduled": len(first),
        "numberMisscheduled": sum(1 for n, on in by_node.items() if n not in wanted and on),
        "desiredNumberScheduled": len(wanted), "numberReady": len(ready),
        "updatedNumberScheduled": sum(1 for p in first.values() if _updated(p, s.hash)),
        "numberAvailable": available, "numberUnavailable": len(wanted) - available,
        "observedGeneration": s.ds["metadata"].get("generation", 0),
    }
    if (s.ds.get("status") or {}).get("collisionCount") is not None:
        status["collisionCount"] = s.ds["status"]["collisionCount"]
    return status
