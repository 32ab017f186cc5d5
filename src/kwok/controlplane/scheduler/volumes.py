"""VolumeBinding and VolumeZone: where a pod's PersistentVolumeClaims let it run (pure).

PreFilter rejects the pod when a claim is missing, being deleted, or unbound with Immediate
binding (the PV controller, or kwok's volume stages, bind those first). A bound claim's volume
restricts the nodes through its node affinity and its zone/region labels. An unbound claim of a
WaitForFirstConsumer class is provisioned after scheduling: the scheduler writes the chosen node
to `volume.kubernetes.io/selected-node` and binds the pod once the claim is bound.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kwok.controlplane.scheduler.nodeaffinity import term_matches
from kwok.controlplane.scheduler.nodeinfo import NodeInfo
from kwok.controlplane.scheduler.podinfo import PodInfo
from kwok.controlplane.scheduler.status import Status, unresolvable

SELECTED_NODE = "volume.kubernetes.io/selected-node"
ERR_UNBOUND_IMMEDIATE = "pod has unbound immediate PersistentVolumeClaims"
ERR_NODE_CONFLICT = "node(s) had volume node affinity conflict"
ERR_ZONE = "node(s) had no available volume zone"
ZONE_LABELS = ("topology.kubernetes.io/zone", "topology.kubernetes.io/region",
               "failure-domain.beta.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/region")


@dataclass
class VolumeCatalog:
    """The scheduler's caches of claims ("ns/name"), volumes and storage classes (by name)."""

    claims: dict[str, dict[str, Any]] = field(default_factory=dict)
    volumes: dict[str, dict[str, Any]] = field(default_factory=dict)
    classes: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class VolumeState:
    bound: list[dict[str, Any]] = field(default_factory=list)  # the PVs of bound claims
    to_provision: list[dict[str, Any]] = field(default_factory=list)  # WaitForFirstConsumer claims


def claim_names(pod: PodInfo) -> list[str]:
    names = []
    for volume in pod.spec.get("volumes") or ():
        if volume.get("persistentVolumeClaim"):
            names.append(volume["persistentVolumeClaim"].get("claimName", ""))
        elif volume.get("ephemeral"):
            names.append(f"{pod.name}-{volume.get('name', '')}")
    return names


def _binding_mode(claim: dict[str, Any], catalog: VolumeCatalog) -> str:
    name = (claim.get("spec") or {}).get("storageClassName")
    cls = catalog.classes.get(name or "")
    return str((cls or {}).get("volumeBindingMode", "Immediate"))


def pre_filter(pod: PodInfo, catalog: VolumeCatalog) -> VolumeState | str:
    """The volumes to check per node, or the PreFilter message that rejects the pod."""
    state = VolumeState()
    for name in claim_names(pod):
        claim = catalog.claims.get(f"{pod.namespace}/{name}")
        if claim is None:
            return f'persistentvolumeclaim "{name}" not found'
        if claim["metadata"].get("deletionTimestamp"):
            return f'persistentvolumeclaim "{name}" is being deleted'
        volume_name = (claim.get("spec") or {}).get("volumeName")
        if volume_name and (claim.get("status") or {}).get("phase") == "Bound":
            volume = catalog.volumes.get(volume_name)
            if volume is not None:
                state.bound.append(volume)
        elif _binding_mode(claim, catalog) == "WaitForFirstConsumer":
            state.to_provision.append(claim)
        else:
            return ERR_UNBOUND_IMMEDIATE
    return state


def filter_node(state: VolumeState, node: NodeInfo) -> Status | None:
    for volume in state.bound:
        required = (((volume.get("spec") or {}).get("nodeAffinity") or {}).get("required") or {})
        terms = required.get("nodeSelectorTerms")
        if terms is not None and not any(term_matches(t, node.name, node.labels) for t in terms):
            return unresolvable("VolumeBinding", ERR_NODE_CONFLICT)
    for volume in state.bound:
        labels = volume["metadata"].get("labels") or {}
        for key in ZONE_LABELS:
            if key in labels and node.labels.get(key) not in labels[key].split("__"):
                return unresolvable("VolumeZone", ERR_ZONE)
    return None
