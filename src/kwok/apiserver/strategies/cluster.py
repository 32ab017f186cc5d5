"""Cluster-scoped infrastructure kinds: Namespaces and Nodes.

A Namespace is deleted in two steps: DELETE marks it Terminating (it keeps the `kubernetes` spec
finalizer), the namespace controller empties it and clears the finalizer through /finalize, and
only then does it go away.
"""

from __future__ import annotations

from kwok.apiserver.registry import Cause, DeleteDecision, Obj, RequestContext, register
from kwok.apiserver.strategies.base import KindStrategy, propagation_finalizer
from kwok.apiserver.strategies.fielderrors import invalid, not_supported, required
from kwok.apiserver.strategies.objectmeta import dns1123_label, qualified_name

NAME_LABEL = "kubernetes.io/metadata.name"
TAINT_EFFECTS = ["NoExecute", "NoSchedule", "PreferNoSchedule"]


@register("", "namespaces")
class NamespaceStrategy(KindStrategy):
    name_validator = staticmethod(dns1123_label)
    bumps_generation = False

    def default(self, obj: Obj) -> None:
        meta = obj.setdefault("metadata", {})
        # The label lets namespace selectors match a namespace by name; it cannot be removed.
        if meta.get("name"):
            meta.setdefault("labels", {})[NAME_LABEL] = meta["name"]

    def prepare_create(self, obj: Obj, ctx: RequestContext) -> None:
        obj["status"] = {"phase": "Active"}
        finalizers = obj.setdefault("spec", {}).setdefault("finalizers", [])
        if "kubernetes" not in finalizers:
            finalizers.append("kubernetes")

    def _prepare_for_update(self, new: Obj, old: Obj, ctx: RequestContext) -> None:
        super()._prepare_for_update(new, old, ctx)
        # spec.finalizers change only through the finalize subresource.
        new["spec"] = old.get("spec") or {}

    def validate_spec(self, obj: Obj) -> list[Cause]:
        causes: list[Cause] = []
        for i, f in enumerate((obj.get("spec") or {}).get("finalizers") or []):
            causes += [invalid(f"spec.finalizers[{i}]", f, m) for m in qualified_name(f)]
        return causes

    def field_values(self, obj: Obj) -> dict[str, str]:
        out = super().field_values(obj)
        out["status.phase"] = (obj.get("status") or {}).get("phase", "")
        return out

    def delete_decision(self, obj: Obj, options: Obj) -> DeleteDecision:
        meta = obj.get("metadata") or {}
        finalizer = propagation_finalizer(options, self.default_propagation)
        add = (finalizer,) if finalizer and finalizer not in (meta.get("finalizers") or []) else ()
        keep = bool((obj.get("spec") or {}).get("finalizers") or meta.get("finalizers") or add)
        return DeleteDecision(remove_now=not keep, add_finalizers=add)

    def prepare_for_delete(self, obj: Obj, options: Obj) -> None:
        obj.setdefault("status", {})["phase"] = "Terminating"

    def finalized(self, obj: Obj) -> bool:
        return super().finalized(obj) and not (obj.get("spec") or {}).get("finalizers")


def finalize_namespace(new: Obj, old: Obj) -> Obj:
    """PUT namespaces/{name}/finalize: only spec.finalizers change."""
    out = dict(old)
    out["spec"] = dict(old.get("spec") or {})
    out["spec"]["finalizers"] = list((new.get("spec") or {}).get("finalizers") or [])
    return out


@register("", "nodes")
class NodeStrategy(KindStrategy):
    bumps_generation = False
    clear_status_on_create = False   # kubelets register with their status

    def default(self, obj: Obj) -> None:
        status = obj.get("status")
        if isinstance(status, dict) and status.get("capacity") and "allocatable" not in status:
            status["allocatable"] = dict(status["capacity"])

    def validate_spec(self, obj: Obj) -> list[Cause]:
        spec = obj.get("spec") or {}
        causes: list[Cause] = []
        seen: set[tuple[str, str]] = set()
        for i, taint in enumerate(spec.get("taints") or []):
            path = f"spec.taints[{i}]"
            key = taint.get("key", "")
            if not key:
                causes.append(required(f"{path}.key"))
            else:
                causes += [invalid(f"{path}.key", key, m) for m in qualified_name(key)]
            effect = taint.get("effect", "")
            if not effect:
                causes.append(required(f"{path}.effect"))
            elif effect not in TAINT_EFFECTS:
                causes.append(not_supported(f"{path}.effect", effect, TAINT_EFFECTS))
            if (key, effect) in seen:
                causes.append(invalid(f"{path}.effect", effect,
                                      "taints must be unique by key and effect pair"))
            seen.add((key, effect))
        return causes

    def field_values(self, obj: Obj) -> dict[str, str]:
        out = super().field_values(obj)
        out["spec.unschedulable"] = "true" if (obj.get("spec") or {}).get("unschedulable") else "false"
        return out
