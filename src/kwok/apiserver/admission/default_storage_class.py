"""DefaultStorageClass: a PersistentVolumeClaim that names no class gets the cluster's default one
(the StorageClass annotated `storageclass.kubernetes.io/is-default-class: "true"`)."""

from __future__ import annotations

from kwok.apiserver.registry import AdmissionPlugin, AdmissionRequest, Lookup, Obj

DEFAULT_ANNOTATION = "storageclass.kubernetes.io/is-default-class"


def default_class(classes: list[Obj]) -> Obj | None:
    """The newest default class, then by name, as the real plugin breaks ties."""
    defaults = [c for c in classes
                if ((c.get("metadata") or {}).get("annotations") or {}).get(DEFAULT_ANNOTATION) == "true"]
    defaults.sort(key=lambda c: (c["metadata"].get("creationTimestamp", ""), c["metadata"].get("name", "")))
    return defaults[-1] if defaults else None


class DefaultStorageClass(AdmissionPlugin):
    name = "DefaultStorageClass"

    def handles(self, req: AdmissionRequest) -> bool:
        return (req.operation == "CREATE" and not req.subresource and req.info.group == ""
                and req.info.plural == "persistentvolumeclaims" and isinstance(req.obj, dict))

    async def admit(self, req: AdmissionRequest, lookup: Lookup) -> None:
        assert req.obj is not None
        spec = req.obj.setdefault("spec", {})
        if spec.get("storageClassName") is not None:
            return
        chosen = default_class(await lookup.list("storage.k8s.io", "storageclasses", None))
        if chosen is not None:
            spec["storageClassName"] = chosen["metadata"]["name"]
