"""ResourceQuota: a create that would push a namespace past a quota's `hard` limits is refused with
the real `exceeded quota: <name>, requested: ..., used: ..., limited: ...` 403.

Usage is measured from the objects in the namespace at admission time (not from a possibly stale
status.used), and the quota's status is then written with the new usage, as the real plugin does, so
that `kubectl describe quota` shows it without a quota controller.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from kwok.api.podresources import (
    QUANTITY,
    Units,
    is_pod_quota_resource,
    pod_matches_quota_scopes,
    pod_quota_usage,
    quota_constraint_error,
)
from kwok.api.quantity import Quantity, QuantityError
from kwok.apiserver.admission.common import refuse
from kwok.apiserver.registry import AdmissionPlugin, AdmissionRequest, Lookup, Obj

Usage = dict[str, Quantity]
ONE = Quantity("1")
ZERO = Quantity("0")
_COUNTED = {"pods", "services", "configmaps", "secrets", "persistentvolumeclaims", "replicationcontrollers",
            "resourcequotas"}


def _q(value: object) -> Quantity:
    try:
        return Quantity(str(value))
    except QuantityError:
        return ZERO


def _add(into: Usage, other: Usage) -> None:
    for k, v in other.items():
        into[k] = into.get(k, ZERO) + v


# Quantities this plugin cannot parse count as zero: the pod is refused by validation anyway.
_UNITS: Units[Quantity] = replace(QUANTITY, parse=_q)


def _time(text: str) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def pod_usage(pod: Obj, now: datetime | None = None) -> Usage:
    """What one pod charges (PodUsageFunc): `count/pods` always, compute while it runs."""
    return pod_quota_usage(pod, now, _UNITS)


def service_usage(svc: Obj) -> Usage:
    spec = svc.get("spec") or {}
    usage: Usage = {"services": ONE, "count/services": ONE}
    if spec.get("type") in ("NodePort", "LoadBalancer"):
        usage["services.nodeports"] = Quantity.from_int(len(spec.get("ports") or []))
    if spec.get("type") == "LoadBalancer":
        usage["services.loadbalancers"] = ONE
    return usage


def claim_usage(pvc: Obj) -> Usage:
    spec = pvc.get("spec") or {}
    storage = _q(((spec.get("resources") or {}).get("requests") or {}).get("storage", 0))
    usage: Usage = {"persistentvolumeclaims": ONE, "count/persistentvolumeclaims": ONE,
                    "requests.storage": storage}
    klass = spec.get("storageClassName")
    if klass:
        prefix = f"{klass}.storageclass.storage.k8s.io/"
        usage[prefix + "requests.storage"] = storage
        usage[prefix + "persistentvolumeclaims"] = ONE
    return usage


def usage_of(group: str, plural: str, obj: Obj, now: datetime | None = None) -> Usage:
    if group == "" and plural == "pods":
        return pod_usage(obj, now)
    if group == "" and plural == "services":
        return service_usage(obj)
    if group == "" and plural == "persistentvolumeclaims":
        return claim_usage(obj)
    count = f"count/{plural}" + (f".{group}" if group else "")
    usage = {count: ONE}
    if group == "" and plural in _COUNTED:
        usage[plural] = ONE
    return usage


def pretty(usage: Usage) -> str:
    """quota's prettyPrint: `name=quantity` sorted by name, comma-joined."""
    return ",".join(f"{k}={v}" for k, v in sorted(usage.items()))


def missing_constraints(hard: Obj, pod: Obj) -> str:
    """Compute resources the quota limits that some container does not state (`must specify ...`)."""
    return quota_constraint_error(pod, hard)


def counted_kind(resource: str) -> tuple[str, str] | None:
    """The (group, plural) whose objects a quota resource name counts."""
    if resource.startswith("count/"):
        plural, _, group = resource[len("count/"):].partition(".")
        return group, plural
    if resource in _COUNTED:
        return "", resource
    if resource == "requests.storage" or ".storageclass.storage.k8s.io/" in resource:
        return "", "persistentvolumeclaims"
    if resource.startswith("services."):
        return "", "services"
    if is_pod_quota_resource(resource):
        return "", "pods"
    return None


async def measure(quota: Obj, lookup: Lookup, namespace: str | None, now: datetime | None = None) -> Usage:
    """Usage of every resource a quota limits, counted from the namespace's objects (what the quota
    controller records in status.used)."""
    hard = (quota.get("spec") or {}).get("hard") or {}
    kinds = {kind for r in hard if (kind := counted_kind(r)) is not None}
    used: Usage = {r: ZERO for r in hard}
    for group, plural in sorted(kinds):
        for obj in await lookup.list(group, plural, namespace):
            if plural == "pods" and group == "" and not pod_matches_quota_scopes(quota, obj):
                continue
            _add(used, {k: v for k, v in usage_of(group, plural, obj, now).items() if k in hard})
    return used


class ResourceQuota(AdmissionPlugin):
    name = "ResourceQuota"

    async def admit(self, req: AdmissionRequest, lookup: Lookup) -> None:
        """A new quota starts with its status filled in, as the quota controller would at once."""
        if req.info.group != "" or req.info.plural != "resourcequotas" or req.obj is None:
            return
        used = await measure(req.obj, lookup, req.namespace, _time(req.ctx.now))
        if "resourcequotas" in used or "count/resourcequotas" in used:
            _add(used, {k: ONE for k in ("resourcequotas", "count/resourcequotas") if k in used})   # itself
        hard = (req.obj.get("spec") or {}).get("hard") or {}
        req.obj["status"] = {"hard": dict(hard), "used": {k: str(v) for k, v in used.items()}}

    def handles(self, req: AdmissionRequest) -> bool:
        return req.operation == "CREATE" and not req.subresource and bool(req.namespace) and req.obj is not None

    async def validate(self, req: AdmissionRequest, lookup: Lookup) -> None:
        quotas = await lookup.list("", "resourcequotas", req.namespace)
        if not quotas:
            return
        assert req.obj is not None
        group, plural = req.info.group, req.info.plural
        delta = usage_of(group, plural, req.obj)
        for quota in quotas:
            if plural == "pods" and group == "" and not pod_matches_quota_scopes(quota, req.obj):
                continue
            await self._check(req, lookup, quota, delta)

    async def _check(self, req: AdmissionRequest, lookup: Lookup, quota: Obj, delta: Usage) -> None:
        hard = (quota.get("spec") or {}).get("hard") or {}
        name = (quota.get("metadata") or {}).get("name", "")
        if req.info.plural == "pods" and (missing := missing_constraints(hard, req.obj or {})):
            raise refuse(req, f"failed quota: {name}: {missing}")
        requested = {k: v for k, v in delta.items() if k in hard}
        if not requested:
            return
        used = await self._used(req, lookup, quota, hard)
        exceeded = sorted(k for k, v in requested.items() if used.get(k, ZERO) + v > _q(hard[k]))
        if exceeded:
            raise refuse(req, f"exceeded quota: {name}, requested: {pretty({k: requested[k] for k in exceeded})}, "
                              f"used: {pretty({k: used.get(k, ZERO) for k in exceeded})}, "
                              f"limited: {pretty({k: _q(hard[k]) for k in exceeded})}")
        if not req.ctx.dry_run:
            await self._record(lookup, quota, hard, used, requested)

    async def _used(self, req: AdmissionRequest, lookup: Lookup, quota: Obj, hard: Obj) -> Usage:
        used: Usage = {}
        group, plural = req.info.group, req.info.plural
        now = _time(req.ctx.now)
        for obj in await lookup.list(group, plural, req.namespace):
            if plural == "pods" and group == "" and not pod_matches_quota_scopes(quota, obj):
                continue
            _add(used, {k: v for k, v in usage_of(group, plural, obj, now).items() if k in hard})
        # Resources of other kinds keep the usage the quota last recorded.
        recorded = (quota.get("status") or {}).get("used") or {}
        for k, v in recorded.items():
            if k in hard and k not in usage_of(group, plural, req.obj or {}):
                used[k] = _q(v)
        return used

    async def _record(self, lookup: Lookup, quota: Obj, hard: Obj, used: Usage, requested: Usage) -> None:
        totals = {k: used.get(k, ZERO) for k in hard}
        _add(totals, requested)
        status = {"hard": dict(hard), "used": {**((quota.get("status") or {}).get("used") or {}),
                                               **{k: str(v) for k, v in totals.items() if k in used or
                                                  k in requested}}}
        try:
            await lookup.update_status("", "resourcequotas", {**quota, "status": status})
        except Exception:   # noqa: BLE001  a lost race only delays the figures; admission already decided
            pass
