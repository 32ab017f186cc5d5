"""The Scale (autoscaling/v1) a scalable resource shows through its `scale` subresource.

The scale handler answers it, and admission shows it: a write to `deployments/x/scale` reaches
webhooks and ValidatingAdmissionPolicies with the Scale as `object`/`oldObject` (not the
Deployment), as kube-apiserver's scale storage does, and the replicas a mutating webhook patches
into the Scale land in the parent. Built-in kinds keep replicas in spec.replicas/status.replicas;
a custom resource names its paths in its CRD version's `subresources.scale`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kwok.api import errors
from kwok.api.selectors import SelectorError, label_selector_from_object
from kwok.apiserver.admission.attributes import is_builtin
from kwok.apiserver.crd import read_path, write_path
from kwok.apiserver.registry import AdmissionRequest, Lookup
from kwok.apiserver.strategies.fielderrors import invalid

Obj = dict[str, Any]
_SCALE_META = ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")


@dataclass(frozen=True)
class ScalePaths:
    """Where a resource keeps what its Scale shows (JSON paths as a CRD spells them)."""

    spec_replicas: str = ".spec.replicas"
    status_replicas: str = ".status.replicas"
    label_selector: str | None = None     # a path to the selector text; None: spec.selector
    map_selector: bool = False            # spec.selector is a plain label map (ReplicationController)


BUILTIN = ScalePaths()
REPLICATION_CONTROLLER = ScalePaths(map_selector=True)


def builtin_paths(plural: str) -> ScalePaths:
    return REPLICATION_CONTROLLER if plural == "replicationcontrollers" else BUILTIN


def custom_paths(scale: Mapping[str, Any]) -> ScalePaths:
    """The paths of a CRD version's `subresources.scale`."""
    return ScalePaths(scale.get("specReplicasPath", ".spec.replicas"),
                      scale.get("statusReplicasPath", ".status.replicas"), scale.get("labelSelectorPath"))


def to_scale(obj: Obj, paths: ScalePaths) -> Obj:
    """The Scale of an object: its identity, desired and observed replicas, and pod selector."""
    meta = obj.get("metadata") or {}
    status: Obj = {"replicas": read_path(obj, paths.status_replicas) or 0}
    if selector := _selector_text(obj, paths):
        status["selector"] = selector
    return {"kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": {k: meta[k] for k in _SCALE_META if k in meta},
            "spec": {"replicas": read_path(obj, paths.spec_replicas) or 0}, "status": status}


def _selector_text(obj: Obj, paths: ScalePaths) -> str:
    if paths.label_selector is not None:
        value = read_path(obj, paths.label_selector)
        return value if isinstance(value, str) else ""
    selector = (obj.get("spec") or {}).get("selector")
    if paths.map_selector:
        return ",".join(f"{k}={v}" for k, v in sorted((selector or {}).items()))
    try:
        return str(label_selector_from_object(selector)) if selector else ""
    except SelectorError:
        return ""


def wanted_replicas(scale: Obj, name: str) -> int:
    """spec.replicas of a Scale, refused as ValidateScale refuses it (422 on the Scale)."""
    replicas = (scale.get("spec") or {}).get("replicas", 0)
    if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 0:
        raise errors.invalid("Scale", name, [invalid("spec.replicas", replicas, "must be greater than or equal to 0")],
                             "autoscaling")
    return replicas


def set_replicas(obj: Obj, paths: ScalePaths, replicas: int) -> None:
    write_path(obj, paths.spec_replicas, replicas)


# ------------------------------------------------------------------------------------ admission

def is_scale_write(req: AdmissionRequest) -> bool:
    return req.subresource == "scale" and req.operation in ("CREATE", "UPDATE")


async def paths_for(req: AdmissionRequest, lookup: Lookup) -> ScalePaths:
    """The scale paths of the request's resource (a custom one's from its CRD)."""
    info = req.info
    if is_builtin(info.group, info.plural):
        return builtin_paths(info.plural)
    crd = await lookup.get("apiextensions.k8s.io", "customresourcedefinitions", None, f"{info.plural}.{info.group}")
    for version in ((crd or {}).get("spec") or {}).get("versions") or ():
        if version.get("name") == info.version:
            return custom_paths((version.get("subresources") or {}).get("scale") or {})
    return BUILTIN


async def admitted_view(req: AdmissionRequest, lookup: Lookup) -> AdmissionRequest:
    """The request as webhooks and policies see it: for a scale write, with the Scales of the new
    and the stored object (sharing the request's context); any other request as it is."""
    if not is_scale_write(req):
        return req
    paths = await paths_for(req, lookup)
    obj = to_scale(req.obj, paths) if req.obj is not None else None
    old = to_scale(req.old, paths) if req.old is not None else None
    return dataclasses.replace(req, obj=obj, old=old)


async def carry_back(view: AdmissionRequest, req: AdmissionRequest, lookup: Lookup) -> None:
    """What mutating admission changed in the Scale, into the parent: its replicas (the only field
    the scale storage takes from a Scale), refused as the scale storage refuses an invalid Scale."""
    if view is req or view.obj is None or req.obj is None:
        return
    set_replicas(req.obj, await paths_for(req, lookup), wanted_replicas(view.obj, req.name))
