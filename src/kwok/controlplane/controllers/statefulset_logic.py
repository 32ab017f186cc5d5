"""StatefulSet decisions (pure): stable pod names `<set>-<ordinal>`, ordered (OrderedReady) or
parallel creation and deletion, rolling updates from the highest ordinal down to the partition,
claims from volumeClaimTemplates, and the status.

OrderedReady creates ordinal i only when 0..i-1 are Running and Ready and removes the highest
ordinal first, one at a time; Parallel does all at once. A failed pod is deleted to be recreated.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from kwok.controlplane.controllers.daemonset_logic import template_hash
from kwok.controlplane.controllers.pods import is_available, is_ready, is_terminal

POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"
REVISION_LABEL = "controller-revision-hash"


def revision(sts: dict[str, Any]) -> str:
    return f"{sts['metadata']['name']}-{template_hash(sts)}"


def ordinal(sts: dict[str, Any], pod: dict[str, Any]) -> int | None:
    prefix = sts["metadata"]["name"] + "-"
    name = pod["metadata"]["name"]
    if not name.startswith(prefix) or not name[len(prefix):].isdigit():
        return None
    return int(name[len(prefix):])


def claim_name(template: dict[str, Any], sts: dict[str, Any], index: int) -> str:
    return f"{template['metadata']['name']}-{sts['metadata']['name']}-{index}"


def pod_for(sts: dict[str, Any], index: int) -> dict[str, Any]:
    """The pod of ordinal `index` (metadata and spec; the owner reference is added by the caller)."""
    spec = sts.get("spec") or {}
    template = copy.deepcopy(spec.get("template") or {})
    name = f"{sts['metadata']['name']}-{index}"
    labels = {**((template.get("metadata") or {}).get("labels") or {}), POD_NAME_LABEL: name,
              POD_INDEX_LABEL: str(index), REVISION_LABEL: revision(sts)}
    pod_spec = template.get("spec") or {}
    pod_spec["hostname"] = name
    if spec.get("serviceName"):
        pod_spec["subdomain"] = spec["serviceName"]
    volumes = [v for v in pod_spec.get("volumes") or ()
               if v.get("name") not in {t["metadata"]["name"] for t in spec.get("volumeClaimTemplates") or ()}]
    for claim in spec.get("volumeClaimTemplates") or ():
        volumes.append({"name": claim["metadata"]["name"],
                        "persistentVolumeClaim": {"claimName": claim_name(claim, sts, index)}})
    if volumes:
        pod_spec["volumes"] = volumes
    meta: dict[str, Any] = {"name": name, "labels": labels}
    if (template.get("metadata") or {}).get("annotations"):
        meta["annotations"] = dict(template["metadata"]["annotations"])
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": pod_spec}


def _healthy(pod: dict[str, Any]) -> bool:
    return (pod.get("status") or {}).get("phase") == "Running" and is_ready(pod) and not pod["metadata"].get("deletionTimestamp")


@dataclass
class StatefulPlan:
    create: list[int] = field(default_factory=list)
    delete: list[dict[str, Any]] = field(default_factory=list)
    status: dict[str, Any] = field(default_factory=dict)


def plan(sts: dict[str, Any], pods: list[dict[str, Any]], now: float) -> StatefulPlan:
    spec = sts.get("spec") or {}
    replicas = 1 if spec.get("replicas") is None else int(spec["replicas"])
    parallel = spec.get("podManagementPolicy") == "Parallel"
    by_ordinal = {o: p for p in pods if (o := ordinal(sts, p)) is not None}
    p = StatefulPlan()
    for index in range(replicas):
        pod = by_ordinal.get(index)
        if pod is None:
            p.create.append(index)
            if not parallel:
                break
        elif is_terminal(pod) and not pod["metadata"].get("deletionTimestamp"):
            p.delete.append(pod)  # recreated on a later sync
            if not parallel:
                break
        elif not parallel and not _healthy(pod):
            break
    condemned = sorted((o for o in by_ordinal if o >= replicas), reverse=True)
    if condemned and not p.create:
        all_lower_healthy = all(_healthy(by_ordinal[i]) for i in range(replicas) if i in by_ordinal)
        if parallel:
            p.delete += [by_ordinal[o] for o in condemned if not by_ordinal[o]["metadata"].get("deletionTimestamp")]
        elif all_lower_healthy and not any(by_ordinal[o]["metadata"].get("deletionTimestamp") for o in condemned):
            p.delete.append(by_ordinal[condemned[0]])
    _rolling_update(sts, by_ordinal, replicas, p)
    p.status = _status(sts, pods, replicas, now)
    return p


def _rolling_update(sts: dict[str, Any], by_ordinal: dict[int, dict[str, Any]], replicas: int, p: StatefulPlan) -> None:
    strategy = (sts.get("spec") or {}).get("updateStrategy") or {}
    if strategy.get("type", "RollingUpdate") != "RollingUpdate" or p.create or p.delete:
        return
    partition = int((strategy.get("rollingUpdate") or {}).get("partition") or 0)
    if not all(_healthy(by_ordinal[i]) for i in range(replicas) if i in by_ordinal) or len(by_ordinal) < replicas:
        return
    want = revision(sts)
    for index in range(replicas - 1, partition - 1, -1):
        pod = by_ordinal.get(index)
        if pod is not None and (pod["metadata"].get("labels") or {}).get(REVISION_LABEL) != want:
            p.delete.append(pod)
            return


def _status(sts: dict[str, Any], pods: list[dict[str, Any]], replicas: int, now: float) -> dict[str, Any]:
    spec, old = sts.get("spec") or {}, sts.get("status") or {}
    update_revision = revision(sts)
    live = [p for p in pods if not is_terminal(p)]
    updated = sum(1 for p in live if (p["metadata"].get("labels") or {}).get(REVISION_LABEL) == update_revision)
    current_revision = old.get("currentRevision") or update_revision
    if updated == replicas and len(live) == replicas:
        current_revision = update_revision
    status: dict[str, Any] = {
        "observedGeneration": sts["metadata"].get("generation", 0),
        "replicas": len(live),
        "readyReplicas": sum(1 for p in live if is_ready(p)),
        "currentReplicas": sum(1 for p in live if (p["metadata"].get("labels") or {}).get(REVISION_LABEL)
                               == current_revision),
        "updatedReplicas": updated,
        "availableReplicas": sum(1 for p in live if is_available(p, int(spec.get("minReadySeconds") or 0), now)),
        "currentRevision": current_revision,
        "updateRevision": update_revision,
        "collisionCount": int(old.get("collisionCount") or 0),
    }
    return status
