"""Pods (pkg/registry/core/pod/strategy.go): defaults, Pending status, the narrow update rule,
graceful deletion, and the field selectors kubelets and schedulers watch with."""

from __future__ import annotations

from kwok.api.podresources import qos_class
from kwok.apiserver.defaults import default_pod
from kwok.apiserver.registry import Cause, DeleteDecision, Obj, RequestContext, register
from kwok.apiserver.strategies.base import KindStrategy, get_path, propagation_finalizer
from kwok.apiserver.strategies.fielderrors import forbidden
from kwok.apiserver.strategies.podspec import validate_pod_spec

DEFAULT_GRACE_SECONDS = 30
TERMINAL_PHASES = ("Succeeded", "Failed")

_MUTABLE_MESSAGE = (
    "pod updates may not change fields other than `spec.containers[*].image`,"
    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"
    "`spec.tolerations` (only additions to existing tolerations),"
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"
)


def _without_mutable(spec: Obj) -> Obj:
    """The spec with the fields a pod update may change blanked out, for comparison."""
    out = dict(spec)
    for key in ("activeDeadlineSeconds", "terminationGracePeriodSeconds", "tolerations", "schedulingGates"):
        out.pop(key, None)
    for key in ("containers", "initContainers"):
        if isinstance(out.get(key), list):
            out[key] = [{k: v for k, v in c.items() if k != "image"} if isinstance(c, dict) else c
                        for c in out[key]]
    return out


def _tolerations_only_added(new: Obj, old: Obj) -> bool:
    have = new.get("tolerations") or []
    return all(t in have for t in old.get("tolerations") or [])


def pod_grace_period(pod: Obj, options: Obj) -> int:
    """CheckGracefulDelete: the request's grace, else the pod's; 0 for unscheduled or finished pods."""
    spec = pod.get("spec") or {}
    if not spec.get("nodeName") or get_path(pod, "status", "phase") in TERMINAL_PHASES:
        return 0
    grace = options.get("gracePeriodSeconds")
    if grace is None:
        grace = spec.get("terminationGracePeriodSeconds", DEFAULT_GRACE_SECONDS)
    # A negative value means "as soon as possible", which the kubelet needs at least a second for.
    return 1 if grace < 0 else int(grace)


@register("", "pods")
class PodStrategy(KindStrategy):
    returns_deleted_object = True

    def default(self, obj: Obj) -> None:
        default_pod(obj)
        spec = obj["spec"]
        if isinstance(spec, dict):
            # serviceAccount is the deprecated mirror of serviceAccountName; v1 keeps both in step.
            if spec.get("serviceAccountName") and not spec.get("serviceAccount"):
                spec["serviceAccount"] = spec["serviceAccountName"]
            elif spec.get("serviceAccount") and not spec.get("serviceAccountName"):
                spec["serviceAccountName"] = spec["serviceAccount"]

    def prepare_create(self, obj: Obj, ctx: RequestContext) -> None:
        obj["status"] = {"phase": "Pending", "qosClass": qos_class(obj.get("spec") or {})}

    def validate_spec(self, obj: Obj) -> list[Cause]:
        return validate_pod_spec(obj.get("spec"), "spec")

    def validate_spec_update(self, new: Obj, old: Obj) -> list[Cause]:
        ns, os_ = new.get("spec") or {}, old.get("spec") or {}
        if _without_mutable(ns) != _without_mutable(os_) or not _tolerations_only_added(ns, os_):
            return [forbidden("spec", _MUTABLE_MESSAGE)]
        return []

    def prepare_for_status_update(self, new: Obj, old: Obj) -> None:
        super().prepare_for_status_update(new, old)
        # The kubelet may not rewrite qosClass; it is fixed at creation.
        if isinstance(new.get("status"), dict) and (old.get("status") or {}).get("qosClass"):
            new["status"]["qosClass"] = old["status"]["qosClass"]

    def field_values(self, obj: Obj) -> dict[str, str]:
        out = super().field_values(obj)
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        out["spec.nodeName"] = spec.get("nodeName", "")
        out["spec.restartPolicy"] = spec.get("restartPolicy", "")
        out["spec.schedulerName"] = spec.get("schedulerName", "")
        out["spec.serviceAccountName"] = spec.get("serviceAccountName", "")
        out["spec.hostNetwork"] = "true" if spec.get("hostNetwork") else "false"
        out["status.phase"] = status.get("phase", "")
        out["status.podIP"] = status.get("podIP", "")
        out["status.nominatedNodeName"] = status.get("nominatedNodeName", "")
        return out

    def delete_decision(self, obj: Obj, options: Obj) -> DeleteDecision:
        grace = pod_grace_period(obj, options)
        finalizers = (obj.get("metadata") or {}).get("finalizers") or []
        finalizer = propagation_finalizer(options, self.default_propagation)
        add = (finalizer,) if finalizer and finalizer not in finalizers else ()
        remove_now = grace == 0 and not finalizers and not add
        return DeleteDecision(remove_now=remove_now, grace_period_seconds=grace, add_finalizers=add)
