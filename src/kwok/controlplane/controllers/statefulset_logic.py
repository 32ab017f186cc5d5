"""StatefulSet decisions (pure), after pkg/controller/statefulset: stable pods `<set>-<ordinal>`
for the ordinals `[start, start+replicas)`, their claims, revisions and rolling updates, the status.

One sync walks the replicas in ordinal order: a finished pod is deleted (to be recreated on a
later sync), a missing one created at its revision; OrderedReady stops at the first pod it had to
act on or that is not Running, Ready and available, Parallel acts on all. Then pods beyond the
range ("condemned") are deleted, highest ordinal first and one at a time for OrderedReady. Then a
rolling update deletes up to maxUnavailable pods of an outdated revision, from the highest ordinal
down to the partition; a missing pod below the partition is recreated at the *current* revision.

Revisions are ControllerRevisions holding a patch that restores the pod template; the status
names the current and update revision, and `kubectl rollout status` reads it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from kwok.controlplane.controllers import history
from kwok.controlplane.controllers.deployment_logic import _resolve, replicas_of
from kwok.controlplane.controllers.pods import is_available, is_ready, pod_from_template
from kwok.controlplane.controllers.statefulset_claims import (
    claim_is_stale,
    claim_refs_update,
    desired_claim_refs,
)

KIND, API_VERSION = "StatefulSet", "apps/v1"
POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"
REVISION_LABEL = history.HASH_LABEL
_ORDINAL = re.compile(r"(.*)-([0-9]+)$")


# --- revisions -------------------------------------------------------------------------------

def revision_data(sts: dict[str, Any]) -> dict[str, Any]:
    return history.template_patch(sts)


def collision_count(sts: dict[str, Any]) -> int:
    return int((sts.get("status") or {}).get("collisionCount") or 0)


def new_revision(sts: dict[str, Any], number: int, collisions: int | None = None) -> dict[str, Any]:
    return history.new_revision(sts, KIND, revision_data(sts), number,
                                collision_count(sts) if collisions is None else collisions)


def revision(sts: dict[str, Any]) -> str:
    """The name of the revision of the set's template as it is now."""
    return str(new_revision(sts, 1)["metadata"]["name"])


@dataclass
class RevisionChoice:
    current: dict[str, Any]
    update: dict[str, Any]
    create: bool = False          # `update` is new: create it
    renumber: bool = False        # `update` is an older revision brought back: write its new number


def choose_revisions(sts: dict[str, Any], revisions: list[dict[str, Any]]) -> RevisionChoice:
    """getStatefulSetRevisions: the update revision is the latest one when the template has not
    changed, an equal older one renumbered (a rollback), or a new one; the current revision is
    the one the status names, the update revision when there is none."""
    revisions = history.ordered(revisions)
    candidate = new_revision(sts, history.next_number(revisions))
    equals = [r for r in revisions if history.equal(r, candidate)]
    if equals and equals[-1] is revisions[-1]:
        choice = RevisionChoice(current=revisions[-1], update=revisions[-1])
    elif equals:
        choice = RevisionChoice(current=candidate, update={**equals[-1], "revision": candidate["revision"]}, renumber=True)
    else:
        choice = RevisionChoice(current=candidate, update=candidate, create=True)
    wanted = (sts.get("status") or {}).get("currentRevision")
    choice.current = next((r for r in revisions if r["metadata"]["name"] == wanted), choice.update)
    return choice


def apply_revision(sts: dict[str, Any], rev: dict[str, Any]) -> dict[str, Any]:
    """The set with the pod template the revision recorded (ApplyRevision)."""
    template = dict(((rev.get("data") or {}).get("spec") or {}).get("template") or {})
    template.pop("$patch", None)
    return {**sts, "spec": {**(sts.get("spec") or {}), "template": template}}


# --- identity and storage ----------------------------------------------------------------------

def ordinal(pod: dict[str, Any]) -> int | None:
    match = _ORDINAL.match(pod["metadata"]["name"])
    return int(match.group(2)) if match else None


def start_ordinal(sts: dict[str, Any]) -> int:
    return int(((sts.get("spec") or {}).get("ordinals") or {}).get("start") or 0)


def claim_names(sts: dict[str, Any], pods: list[dict[str, Any]]) -> list[str]:
    """The names of every claim of the ordinals in range and of the pods given."""
    start = start_ordinal(sts)
    ordinals = set(range(start, start + replicas_of(sts))) | {o for p in pods if (o := ordinal(p)) is not None}
    templates = (sts.get("spec") or {}).get("volumeClaimTemplates") or ()
    return [claim_name(t, sts, index) for t in templates for index in sorted(ordinals)]


def claim_name(template: dict[str, Any], sts: dict[str, Any], index: int) -> str:
    return f"{template['metadata']['name']}-{sts['metadata']['name']}-{index}"


def claims_for(sts: dict[str, Any], index: int) -> list[dict[str, Any]]:
    """The claims of ordinal `index` from volumeClaimTemplates, labelled with the set's selector,
    owned as the retention policy says for a pod in range."""
    spec = sts.get("spec") or {}
    selector_labels = (spec.get("selector") or {}).get("matchLabels") or {}
    claims = []
    for template in spec.get("volumeClaimTemplates") or ():
        meta = template.get("metadata") or {}
        claim_meta: dict[str, Any] = {"name": claim_name(template, sts, index),
                                      "namespace": sts["metadata"].get("namespace"),
                                      "labels": {**(meta.get("labels") or {}), **selector_labels}}
        if meta.get("annotations"):
            claim_meta["annotations"] = dict(meta["annotations"])
        claim = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": claim_meta,
                 "spec": dict(template.get("spec") or {})}
        refs = desired_claim_refs(claim, sts, None, index, scaled_down=False)
        if refs:
            claim_meta["ownerReferences"] = refs
        claims.append(claim)
    return claims


def pod_for(sts: dict[str, Any], index: int, revision_name: str | None = None) -> dict[str, Any]:
    """The pod of ordinal `index` (newStatefulSetPod), labelled with its revision."""
    spec = sts.get("spec") or {}
    name = f"{sts['metadata']['name']}-{index}"
    pod = pod_from_template(spec.get("template") or {}, sts, KIND, API_VERSION, name=name)
    pod["metadata"]["labels"].update({POD_NAME_LABEL: name, POD_INDEX_LABEL: str(index),
                                      REVISION_LABEL: revision_name or revision(sts)})
    pod_spec = pod["spec"]
    pod_spec["hostname"] = name
    if spec.get("serviceName"):
        pod_spec["subdomain"] = spec["serviceName"]
    claims = {t["metadata"]["name"]: claim_name(t, sts, index) for t in spec.get("volumeClaimTemplates") or ()}
    volumes = [{"name": volume, "persistentVolumeClaim": {"claimName": claim}} for volume, claim in claims.items()]
    volumes += [v for v in pod_spec.get("volumes") or () if v.get("name") not in claims]
    if volumes:
        pod_spec["volumes"] = volumes
    return pod


def versioned_pod(current_set: dict[str, Any], update_set: dict[str, Any], current: str, update: str,
                  index: int) -> dict[str, Any]:
    """newVersionedStatefulSetPod: below the partition a pod is made at the current revision."""
    strategy = (current_set.get("spec") or {}).get("updateStrategy") or {}
    rolling = strategy.get("rollingUpdate")
    start = start_ordinal(current_set)
    if rolling is not None:
        below = index < start + int(rolling.get("partition") or 0)
    else:
        below = strategy.get("type", "RollingUpdate") == "RollingUpdate" and \
            index < start + int((current_set.get("status") or {}).get("currentReplicas") or 0)
    return pod_for(current_set, index, current) if below else pod_for(update_set, index, update)


# --- the plan -----------------------------------------------------------------------------------

def _running_ready(pod: dict[str, Any]) -> bool:
    return (pod.get("status") or {}).get("phase") == "Running" and is_ready(pod)


def _healthy(pod: dict[str, Any] | None) -> bool:
    return pod is not None and _running_ready(pod) and not pod["metadata"].get("deletionTimestamp")


def _available(pod: dict[str, Any], min_ready: int, now: float) -> bool:
    return _running_ready(pod) and is_available(pod, min_ready, now)


def _unavailable(s: _Sync, pod: dict[str, Any] | None) -> bool:
    """Not (yet) a pod that is Running, Ready for minReadySeconds and not terminating;
    memoized per sync, every step asks it of every pod."""
    if pod is None:
        return True
    key = id(pod)
    if key not in s.unavailable:
        s.unavailable[key] = bool(pod["metadata"].get("deletionTimestamp")) or not _available(pod, s.min_ready, s.now)
    return s.unavailable[key]


def _phase(pod: dict[str, Any]) -> str:
    return str((pod.get("status") or {}).get("phase") or "")


def revision_label(pod: dict[str, Any]) -> str:
    return str((pod["metadata"].get("labels") or {}).get(REVISION_LABEL) or "")


@dataclass
class PodCreation:
    pod: dict[str, Any]
    claims: list[dict[str, Any]]


@dataclass
class StatefulPlan:
    create: list[PodCreation] = field(default_factory=list)
    delete: list[dict[str, Any]] = field(default_factory=list)
    missing_claims: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (pending pod, claim)
    claim_owners: list[tuple[dict[str, Any], list[dict[str, Any]]]] = field(default_factory=list)
    relabel: list[tuple[dict[str, Any], dict[str, str]]] = field(default_factory=list)  # (pod, identity labels)
    status: dict[str, Any] = field(default_factory=dict)
    deleted_for_update: int = 0


@dataclass
class _Sync:
    """One sync's inputs, resolved."""
    sts: dict[str, Any]
    current_set: dict[str, Any]
    update_set: dict[str, Any]
    current: str
    update: str
    claims: dict[str, dict[str, Any]] | None
    now: float
    monotonic: bool
    min_ready: int
    out: StatefulPlan
    unavailable: dict[int, bool] = field(default_factory=dict)


def plan(sts: dict[str, Any], pods: list[dict[str, Any]], now: float, current: dict[str, Any] | None = None,
         update: dict[str, Any] | None = None, claims: dict[str, dict[str, Any]] | None = None) -> StatefulPlan:
    """What one sync does. `current`/`update` are the chosen revisions (by default the set's
    template is both); `claims` the namespace's claims by name (None: unknown, create them all)."""
    update = update or new_revision(sts, 1)
    current = current or update
    spec = sts.get("spec") or {}
    s = _Sync(sts, apply_revision(sts, current), apply_revision(sts, update), current["metadata"]["name"],
              update["metadata"]["name"], claims, now, spec.get("podManagementPolicy") != "Parallel",
              int(spec.get("minReadySeconds") or 0), StatefulPlan())
    start, count = start_ordinal(sts), replicas_of(sts)
    replicas: list[dict[str, Any] | None] = [None] * count
    condemned: list[dict[str, Any]] = []
    for pod in pods:
        index = ordinal(pod)
        if index is None:
            continue
        if start <= index < start + count:
            replicas[index - start] = pod
        else:
            condemned.append(pod)
    condemned.sort(key=lambda p: ordinal(p) or 0, reverse=True)
    if not sts["metadata"].get("deletionTimestamp") and _replicas(s, replicas, start) and _condemned(s, condemned):
        if (spec.get("updateStrategy") or {}).get("type", "RollingUpdate") != "OnDelete":
            _rolling_update(s, replicas)
    s.out.status = _status(s, [p for p in replicas if p is not None] + condemned)
    return s.out


def _replicas(s: _Sync, replicas: list[dict[str, Any] | None], start: int) -> bool:
    """processReplica over the range; False when OrderedReady must stop here."""
    for i, pod in enumerate(replicas):
        if not _process_replica(s, pod, start + i) and s.monotonic:
            return False
    return True


def _process_replica(s: _Sync, pod: dict[str, Any] | None, index: int) -> bool:
    """False when the pod blocks an ordered set."""
    if pod is None:
        return _create(s, index) and not s.monotonic
    if _phase(pod) in ("Failed", "Succeeded"):
        if not pod["metadata"].get("deletionTimestamp"):
            s.out.delete.append(pod)  # its successor is created once it is gone
        return False
    if _phase(pod) == "Pending":
        s.out.missing_claims += [(pod["metadata"]["name"], c) for c in claims_for(s.sts, index) if not _known(s, c)]
    if _unavailable(s, pod):
        return False
    _fix_claims(s, pod, scaled_down=False)
    if (pod["metadata"].get("labels") or {}).get(POD_NAME_LABEL) != pod["metadata"]["name"]:  # identityMatches
        s.out.relabel.append((pod, identity_labels(pod, index)))
    return True


def identity_labels(pod: dict[str, Any], index: int) -> dict[str, str]:
    """The labels that give a pod its identity, restored when a user removes them (updateIdentity)."""
    return {POD_NAME_LABEL: pod["metadata"]["name"], POD_INDEX_LABEL: str(index)}


def _known(s: _Sync, claim: dict[str, Any]) -> bool:
    return s.claims is not None and claim["metadata"]["name"] in s.claims


def _create(s: _Sync, index: int) -> bool:
    """Plan the pod of `index` and its missing claims; False when a claim blocks it."""
    claims = claims_for(s.update_set, index)
    for claim in claims:
        existing = (s.claims or {}).get(claim["metadata"]["name"])
        if existing is not None and (existing["metadata"].get("deletionTimestamp")
                                     or claim_is_stale(existing, s.sts, index)):
            return False
    pod = versioned_pod(s.current_set, s.update_set, s.current, s.update, index)
    s.out.create.append(PodCreation(pod, [c for c in claims if not _known(s, c)]))
    return True


def _fix_claims(s: _Sync, pod: dict[str, Any], scaled_down: bool) -> None:
    if not s.claims:
        return
    index = ordinal(pod) or 0
    for template in (s.sts.get("spec") or {}).get("volumeClaimTemplates") or ():
        claim = s.claims.get(claim_name(template, s.sts, index))
        if claim is not None and (refs := claim_refs_update(claim, s.sts, pod, index, scaled_down)) is not None:
            s.out.claim_owners.append((claim, refs))


def _condemned(s: _Sync, condemned: list[dict[str, Any]]) -> bool:
    """Scale down beyond the range; False when OrderedReady must stop here."""
    for pod in condemned:
        _fix_claims(s, pod, scaled_down=True)
    unhealthy = [p for p in condemned if not _healthy(p)]
    first_unhealthy = unhealthy[-1] if unhealthy else None  # the lowest unhealthy ordinal
    for pod in condemned:
        if pod["metadata"].get("deletionTimestamp"):
            if s.monotonic:
                return False
            continue
        if s.monotonic and pod is not first_unhealthy and not _available(pod, s.min_ready, s.now):
            return False
        s.out.delete.append(pod)
        if s.monotonic:
            return False
    return True


def max_unavailable(sts: dict[str, Any]) -> int:
    rolling = ((sts.get("spec") or {}).get("updateStrategy") or {}).get("rollingUpdate") or {}
    return max(_resolve(rolling.get("maxUnavailable", 1), replicas_of(sts), False), 1)


def _rolling_update(s: _Sync, replicas: list[dict[str, Any] | None]) -> None:
    """Delete up to maxUnavailable outdated pods, highest ordinal first, down to the partition."""
    rolling = ((s.sts.get("spec") or {}).get("updateStrategy") or {}).get("rollingUpdate") or {}
    partition = int(rolling.get("partition") or 0)
    unavailable = sum(1 for p in replicas if _unavailable(s, p))
    budget = max_unavailable(s.sts) - unavailable
    for pod in reversed(replicas[partition:]):
        if budget <= 0:
            return
        if pod is not None and revision_label(pod) != s.update and not pod["metadata"].get("deletionTimestamp"):
            s.out.delete.append(pod)
            s.out.deleted_for_update += 1
            budget -= 1


def _status(s: _Sync, pods: list[dict[str, Any]]) -> dict[str, Any]:
    created = [p for p in pods if _phase(p)]
    live = [p for p in created if not p["metadata"].get("deletionTimestamp")]
    ready = [p for p in created if _running_ready(p)]
    status: dict[str, Any] = {
        "observedGeneration": s.sts["metadata"].get("generation", 0),
        "replicas": len(created),
        "readyReplicas": len(ready),
        "currentReplicas": sum(1 for p in live if revision_label(p) == s.current) - s.out.deleted_for_update,
        "updatedReplicas": sum(1 for p in live if revision_label(p) == s.update),
        "availableReplicas": sum(1 for p in ready if is_available(p, s.min_ready, s.now)),
        "currentRevision": s.current,
        "updateRevision": s.update,
        "collisionCount": collision_count(s.sts),
    }
    want = replicas_of(s.sts)
    rolling = ((s.sts.get("spec") or {}).get("updateStrategy") or {}).get("type", "RollingUpdate") == "RollingUpdate"
    if rolling and status["updatedReplicas"] == status["readyReplicas"] == status["replicas"] == want:
        status["currentReplicas"], status["currentRevision"] = status["updatedReplicas"], s.update
    if (s.sts.get("status") or {}).get("conditions"):
        status["conditions"] = s.sts["status"]["conditions"]
    return status
