"""Storage kinds: PersistentVolumeClaims, PersistentVolumes, StorageClasses."""

from __future__ import annotations

from kwok.apiserver.registry import Cause, Obj, RequestContext, register
from kwok.apiserver.strategies.base import KindStrategy
from kwok.apiserver.strategies.fielderrors import forbidden, not_supported, required

ACCESS_MODES = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"]


def _validate_access_modes(spec: Obj, path: str) -> list[Cause]:
    modes = spec.get("accessModes") or []
    if not modes:
        return [required(f"{path}.accessModes")]
    return [not_supported(f"{path}.accessModes", m, ACCESS_MODES) for m in modes if m not in ACCESS_MODES]


@register("", "persistentvolumeclaims")
class PersistentVolumeClaimStrategy(KindStrategy):
    bumps_generation = False

    def default(self, obj: Obj) -> None:
        obj.setdefault("spec", {}).setdefault("volumeMode", "Filesystem")

    def prepare_create(self, obj: Obj, ctx: RequestContext) -> None:
        obj["status"] = {"phase": "Pending"}

    def validate_spec(self, obj: Obj) -> list[Cause]:
        spec = obj.get("spec") or {}
        causes = _validate_access_modes(spec, "spec")
        if not spec.get("dataSource") and not ((spec.get("resources") or {}).get("requests") or {}).get("storage"):
            causes.append(required("spec.resources[storage]"))
        return causes

    def validate_spec_update(self, new: Obj, old: Obj) -> list[Cause]:
        ns, os_ = dict(new.get("spec") or {}), dict(old.get("spec") or {})
        for spec in (ns, os_):
            spec.pop("volumeAttributesClassName", None)
            spec["resources"] = {k: v for k, v in (spec.get("resources") or {}).items() if k != "requests"}
        # The binder fills volumeName (and the class) of an unbound claim.
        if not os_.get("volumeName"):
            ns.pop("volumeName", None)
        if not os_.get("storageClassName"):
            ns.pop("storageClassName", None)
            os_.pop("storageClassName", None)
        if ns != os_:
            return [forbidden("spec", "spec is immutable after creation except resources.requests and "
                              "volumeAttributesClassName for bound claims")]
        return []


@register("", "persistentvolumes")
class PersistentVolumeStrategy(KindStrategy):
    bumps_generation = False

    def default(self, obj: Obj) -> None:
        spec = obj.setdefault("spec", {})
        spec.setdefault("persistentVolumeReclaimPolicy", "Retain")
        spec.setdefault("volumeMode", "Filesystem")

    def prepare_create(self, obj: Obj, ctx: RequestContext) -> None:
        obj["status"] = {"phase": "Pending"}

    def validate_spec(self, obj: Obj) -> list[Cause]:
        spec = obj.get("spec") or {}
        causes = _validate_access_modes(spec, "spec")
        if not (spec.get("capacity") or {}).get("storage"):
            causes.append(required("spec.capacity"))
        return causes


@register("storage.k8s.io", "storageclasses")
class StorageClassStrategy(KindStrategy):
    bumps_generation = False
    returns_deleted_object = True

    def default(self, obj: Obj) -> None:
        obj.setdefault("reclaimPolicy", "Delete")
        obj.setdefault("volumeBindingMode", "Immediate")

    def validate_spec(self, obj: Obj) -> list[Cause]:
        return [] if obj.get("provisioner") else [required("provisioner")]

    def validate_spec_update(self, new: Obj, old: Obj) -> list[Cause]:
        causes: list[Cause] = []
        for key in ("provisioner", "parameters", "reclaimPolicy", "volumeBindingMode"):
            if new.get(key) != old.get(key):
                causes.append(forbidden(key, "updates to " + key + " are forbidden."))
        return causes
