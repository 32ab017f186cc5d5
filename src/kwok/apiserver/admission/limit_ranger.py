"""LimitRanger: LimitRange objects default a container's requests and limits and bound them
(min, max, maxLimitRequestRatio) per Container and per Pod, and bound PVC storage.

Defaults apply on create before the checks, and the pod records what was filled in its
`kubernetes.io/limit-ranger` annotation, as the real plugin does.
"""

from __future__ import annotations

from kwok.api import podresources
from kwok.api.quantity import Quantity, QuantityError
from kwok.apiserver.admission.common import is_pod_create, refuse
from kwok.apiserver.registry import AdmissionPlugin, AdmissionRequest, Lookup, Obj

ANNOTATION = "kubernetes.io/limit-ranger"


def _containers(spec: Obj) -> list[tuple[str, Obj]]:
    return [(kind, c) for key, kind in (("initContainers", "init container"), ("containers", "container"))
            for c in spec.get(key) or [] if isinstance(c, dict)]


def apply_defaults(pod: Obj, ranges: list[Obj]) -> str:
    """Fill missing requests/limits from the Container items; returns the annotation text ('' if none)."""
    spec = pod.setdefault("spec", {})
    notes: list[str] = []
    for item in _items(ranges, "Container"):
        for kind, c in _containers(spec):
            resources = c.setdefault("resources", {})
            set_req = _fill(resources, "requests", item.get("defaultRequest") or {})
            set_lim = _fill(resources, "limits", item.get("default") or {})
            parts = []
            if set_req:
                parts.append(f"{', '.join(sorted(set_req))} request for {kind} {c.get('name', '')}")
            if set_lim:
                parts.append(f"{', '.join(sorted(set_lim))} limit for {kind} {c.get('name', '')}")
            if parts:
                notes.append("; ".join(parts))
    return "LimitRanger plugin set: " + "; ".join(notes) if notes else ""


def _fill(resources: Obj, key: str, defaults: Obj) -> list[str]:
    filled = []
    for name, value in defaults.items():
        current = resources.get(key) or {}
        if name not in current:
            resources[key] = {**current, name: value}
            filled.append(name)
    return filled


def _items(ranges: list[Obj], limit_type: str) -> list[Obj]:
    return [item for lr in ranges for item in (lr.get("spec") or {}).get("limits") or []
            if item.get("type") == limit_type]


def _q(value: object) -> Quantity | None:
    try:
        return Quantity(str(value)) if value is not None else None
    except QuantityError:
        return None


def _bound(value: object) -> Quantity:
    return _q(value) or Quantity("0")


def check_bounds(item: Obj, limit_type: str, requests: Obj, limits: Obj) -> list[str]:
    """minConstraint / maxConstraint / limitRequestRatioConstraint of the real plugin."""
    errs: list[str] = []
    for name, bound in (item.get("min") or {}).items():
        req = _q(requests.get(name))
        if req is None:
            errs.append(f"minimum {name} usage per {limit_type} is {_bound(bound)}.  No request is specified")
        elif req < _bound(bound):
            errs.append(f"minimum {name} usage per {limit_type} is {_bound(bound)}, but request is {req}")
    for name, bound in (item.get("max") or {}).items():
        lim = _q(limits.get(name))
        if lim is None:
            errs.append(f"maximum {name} usage per {limit_type} is {_bound(bound)}.  No limit is specified")
        elif lim > _bound(bound):
            errs.append(f"maximum {name} usage per {limit_type} is {_bound(bound)}, but limit is {lim}")
    for name, ratio in (item.get("maxLimitRequestRatio") or {}).items():
        req, lim = _q(requests.get(name)), _q(limits.get(name))
        if req is None or lim is None or req.is_zero:
            errs.append(f"{name} max limit to request ratio per {limit_type} is {_bound(ratio)}, but no request "
                        "is specified or request is 0")
        elif float(lim) / float(req) > float(_bound(ratio)):
            errs.append(f"{name} max limit to request ratio per {limit_type} is {_bound(ratio)}, but provided "
                        f"ratio is {float(lim) / float(req):f}")
    return errs


def _pod_totals(pod: Obj) -> tuple[Obj, Obj]:
    """The pod's requests and limits as LimitRanger's podRequests/podLimits count them: containers
    summed, sidecars added, each other init container alone beside the sidecars before it (the
    largest moment wins), pod-level resources in place of the total where set; no overhead."""
    try:
        requests = podresources.pod_requests(pod, podresources.QUANTITY, exclude_overhead=True, use_status=False)
        limits = podresources.pod_limits(pod, podresources.QUANTITY, exclude_overhead=True, use_status=False)
    except ValueError:
        return {}, {}       # a malformed quantity: validation reports it
    return {k: str(v) for k, v in requests.items()}, {k: str(v) for k, v in limits.items()}


def check_pod(pod: Obj, ranges: list[Obj]) -> list[str]:
    spec = pod.get("spec") or {}
    errs: list[str] = []
    for item in _items(ranges, "Container"):
        for _kind, c in _containers(spec):
            res = c.get("resources") or {}
            errs += check_bounds(item, "Container", res.get("requests") or {}, res.get("limits") or {})
    for item in _items(ranges, "Pod"):
        errs += check_bounds(item, "Pod", *_pod_totals(pod))
    return errs


def check_claim(claim: Obj, ranges: list[Obj]) -> list[str]:
    res = (claim.get("spec") or {}).get("resources") or {}
    errs: list[str] = []
    for item in _items(ranges, "PersistentVolumeClaim"):
        errs += check_bounds(item, "PersistentVolumeClaim", res.get("requests") or {}, res.get("limits") or {})
    return errs


def aggregate(errs: list[str]) -> str:
    """utilerrors.NewAggregate's text: one message alone, several in brackets."""
    return errs[0] if len(errs) == 1 else "[" + ", ".join(errs) + "]"


class LimitRanger(AdmissionPlugin):
    name = "LimitRanger"

    def handles(self, req: AdmissionRequest) -> bool:
        if req.operation not in ("CREATE", "UPDATE") or req.subresource or req.info.group != "":
            return False
        return req.info.plural in ("pods", "persistentvolumeclaims")

    async def _ranges(self, req: AdmissionRequest, lookup: Lookup) -> list[Obj]:
        return await lookup.list("", "limitranges", req.namespace)

    async def admit(self, req: AdmissionRequest, lookup: Lookup) -> None:
        if not is_pod_create(req):
            return
        ranges = await self._ranges(req, lookup)
        assert req.obj is not None
        note = apply_defaults(req.obj, ranges) if ranges else ""
        if note:
            meta = req.obj.setdefault("metadata", {})
            meta["annotations"] = {**(meta.get("annotations") or {}), ANNOTATION: note}

    async def validate(self, req: AdmissionRequest, lookup: Lookup) -> None:
        if req.operation != "CREATE" or req.obj is None:
            return
        ranges = await self._ranges(req, lookup)
        if not ranges:
            return
        errs = check_pod(req.obj, ranges) if req.info.plural == "pods" else check_claim(req.obj, ranges)
        if errs:
            raise refuse(req, aggregate(errs))

