"""Who owns a StatefulSet's claims (pure), after persistentVolumeClaimRetentionPolicy: nobody
(Retain, the default), the set (whenDeleted=Delete: the garbage collector deletes the claims with
the set) or, once the pod is scaled down, the pod (whenScaled=Delete: the claim goes with it).
References left by an earlier set or pod of the same name, or another controller, are not
touched (isClaimOwnerUpToDate / updateClaimOwnerRefForSetAndPod).
"""

from __future__ import annotations

from typing import Any

from kwok.controlplane.controllers.pods import controller_ref

KIND, API_VERSION = "StatefulSet", "apps/v1"


def _policy(sts: dict[str, Any]) -> tuple[str, str]:
    policy = (sts.get("spec") or {}).get("persistentVolumeClaimRetentionPolicy") or {}
    return policy.get("whenDeleted") or "Retain", policy.get("whenScaled") or "Retain"


def _refers(ref: dict[str, Any], obj_name: str, kind: str, api_version: str) -> bool:
    return ref.get("kind") == kind and ref.get("apiVersion") == api_version and ref.get("name") == obj_name


def _owners(sts: dict[str, Any], pod: dict[str, Any] | None, index: int) -> list[tuple[str, str, str, str | None]]:
    """(name, kind, apiVersion, uid) of the set and of the pod (uid None while it does not exist)."""
    pod_uid = pod["metadata"].get("uid") if pod is not None else None
    return [(sts["metadata"]["name"], KIND, API_VERSION, sts["metadata"].get("uid")),
            (f"{sts['metadata']['name']}-{index}", "Pod", "v1", pod_uid)]


def _stale(claim: dict[str, Any], owner: tuple[str, str, str, str | None]) -> bool:
    for ref in claim["metadata"].get("ownerReferences") or ():
        if _refers(ref, *owner[:3]):
            return bool(ref.get("uid") != owner[3])
    return False


def _unexpected_controller(claim: dict[str, Any], sts: dict[str, Any], owners: list[Any]) -> bool:
    if _policy(sts) == ("Retain", "Retain"):
        return False
    for ref in claim["metadata"].get("ownerReferences") or ():
        mine = next((o for o in owners if _refers(ref, *o[:3])), None)
        if mine is not None:
            if ref.get("uid") != mine[3]:
                return True
        elif ref.get("controller"):
            return True
    return False


def claim_is_stale(claim: dict[str, Any], sts: dict[str, Any], index: int) -> bool:
    """A claim still owned by a deleted pod of that name (PodClaimIsStale): wait for the garbage
    collector before creating the pod again."""
    return _policy(sts)[1] != "Retain" and _stale(claim, _owners(sts, None, index)[1])


def desired_claim_refs(claim: dict[str, Any], sts: dict[str, Any], pod: dict[str, Any] | None, index: int,
                       scaled_down: bool) -> list[dict[str, Any]]:
    """The claim's owner references under the retention policy (updateClaimOwnerRefForSetAndPod):
    the set owns it when whenDeleted=Delete (unless the pod is scaled down and whenScaled=Delete),
    the pod owns it when it is scaled down and whenScaled=Delete."""
    owners = _owners(sts, pod, index)
    refs = [r for r in claim["metadata"].get("ownerReferences") or () if not any(_refers(r, *o[:3]) for o in owners)]
    if _unexpected_controller(claim, sts, owners):
        return refs
    when_deleted, when_scaled = _policy(sts)
    if when_deleted == "Delete" and not (scaled_down and when_scaled == "Delete"):
        refs.append(controller_ref(sts, KIND, API_VERSION))
    if when_scaled == "Delete" and scaled_down and pod is not None:
        refs.append(controller_ref(pod, "Pod", "v1"))
    return refs


def claim_refs_update(claim: dict[str, Any], sts: dict[str, Any], pod: dict[str, Any], index: int,
                      scaled_down: bool) -> list[dict[str, Any]] | None:
    """The owner references to write on the claim, None when they already fit (isClaimOwnerUpToDate)."""
    owners = _owners(sts, pod, index)
    if any(_stale(claim, o) for o in owners):
        return None  # managed by an earlier incarnation of the set or pod: leave it to the garbage collector
    uids = {r.get("uid"): r for r in claim["metadata"].get("ownerReferences") or ()}
    has_set, has_pod = owners[0][3] in uids, owners[1][3] in uids
    if _unexpected_controller(claim, sts, owners):
        return desired_claim_refs(claim, sts, pod, index, scaled_down) if has_set or has_pod else None
    if any(not uids[o[3]].get("controller") for o in owners if o[3] in uids):
        return desired_claim_refs(claim, sts, pod, index, scaled_down)
    when_deleted, when_scaled = _policy(sts)
    want_set = when_deleted == "Delete" and not (scaled_down and when_scaled == "Delete")
    want_pod = when_scaled == "Delete" and scaled_down
    if (has_set, has_pod) == (want_set, want_pod):
        return None
    return desired_claim_refs(claim, sts, pod, index, scaled_down)
