"""Scheduling policy kinds: PriorityClasses, PodDisruptionBudgets, LimitRanges, ResourceQuotas."""

from __future__ import annotations

from kwok.apiserver.registry import Cause, Obj, RequestContext, register
from kwok.apiserver.strategies.base import KindStrategy
from kwok.apiserver.strategies.fielderrors import forbidden, invalid, not_supported

HIGHEST_USER_PRIORITY = 1_000_000_000
SYSTEM_PRIORITY_CLASSES = {"system-node-critical": 2_000_001_000, "system-cluster-critical": 2_000_000_000}
PREEMPTION_POLICIES = ["Never", "PreemptLowerPriority"]


@register("scheduling.k8s.io", "priorityclasses")
class PriorityClassStrategy(KindStrategy):
    bumps_generation = False

    def default(self, obj: Obj) -> None:
        obj.setdefault("preemptionPolicy", "PreemptLowerPriority")
        obj.setdefault("value", 0)

    def validate_spec(self, obj: Obj) -> list[Cause]:
        name = (obj.get("metadata") or {}).get("name", "")
        value = obj.get("value", 0)
        causes: list[Cause] = []
        if name.startswith("system-"):
            if SYSTEM_PRIORITY_CLASSES.get(name) != value:
                causes.append(forbidden("metadata.name",
                                        "priority class names with 'system-' prefix are reserved."))
        elif value > HIGHEST_USER_PRIORITY:
            causes.append(forbidden("value", f"maximum allowed value of a user defined priority is "
                                    f"{HIGHEST_USER_PRIORITY}"))
        if obj.get("preemptionPolicy") not in PREEMPTION_POLICIES:
            causes.append(not_supported("preemptionPolicy", obj.get("preemptionPolicy"), PREEMPTION_POLICIES))
        return causes

    def validate_spec_update(self, new: Obj, old: Obj) -> list[Cause]:
        causes: list[Cause] = []
        if new.get("value") != old.get("value"):
            causes.append(forbidden("value", "may not be changed in an update."))
        if new.get("preemptionPolicy") != old.get("preemptionPolicy"):
            causes.append(invalid("preemptionPolicy", new.get("preemptionPolicy"), "field is immutable"))
        return causes


@register("policy", "poddisruptionbudgets")
class PodDisruptionBudgetStrategy(KindStrategy):
    def prepare_create(self, obj: Obj, ctx: RequestContext) -> None:
        obj["status"] = {"disruptionsAllowed": 0, "currentHealthy": 0, "desiredHealthy": 0, "expectedPods": 0}

    def validate_spec(self, obj: Obj) -> list[Cause]:
        spec = obj.get("spec") or {}
        if spec.get("minAvailable") is not None and spec.get("maxUnavailable") is not None:
            return [invalid("spec", spec, "minAvailable and maxUnavailable cannot be both set")]
        return []


@register("", "resourcequotas")
class ResourceQuotaStrategy(KindStrategy):
    bumps_generation = False


def default_limit_range_item(item: Obj) -> None:
    """SetDefaults_LimitRangeItem: for Container items, default limit <- max, default request <- default
    limit, then <- min; so a LimitRange with only `max` still defaults every container."""
    if item.get("type") != "Container":
        return
    default = item.setdefault("default", {})
    request = item.setdefault("defaultRequest", {})
    for source, target in ((item.get("max"), default), (default, request), (item.get("min"), request)):
        for name, value in (source or {}).items():
            target.setdefault(name, value)
    for key in ("default", "defaultRequest"):
        if not item[key]:
            del item[key]


@register("", "limitranges")
class LimitRangeStrategy(KindStrategy):
    bumps_generation = False

    def default(self, obj: Obj) -> None:
        for item in (obj.get("spec") or {}).get("limits") or []:
            if isinstance(item, dict):
                default_limit_range_item(item)
