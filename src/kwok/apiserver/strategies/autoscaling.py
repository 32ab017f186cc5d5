"""HorizontalPodAutoscalers (autoscaling/v2): at least one replica, CPU at 80 % unless told otherwise."""

from __future__ import annotations

from kwok.apiserver.registry import Cause, Obj, register
from kwok.apiserver.strategies.base import KindStrategy
from kwok.apiserver.strategies.fielderrors import invalid, required

DEFAULT_CPU_UTILIZATION = 80


@register("autoscaling", "horizontalpodautoscalers")
class HorizontalPodAutoscalerStrategy(KindStrategy):
    def default(self, obj: Obj) -> None:
        spec = obj.setdefault("spec", {})
        spec.setdefault("minReplicas", 1)
        if not spec.get("metrics"):
            spec["metrics"] = [{"type": "Resource", "resource": {"name": "cpu", "target": {
                "type": "Utilization", "averageUtilization": DEFAULT_CPU_UTILIZATION}}}]

    def validate_spec(self, obj: Obj) -> list[Cause]:
        spec = obj.get("spec") or {}
        causes: list[Cause] = []
        target = spec.get("scaleTargetRef") or {}
        for key in ("kind", "name"):
            if not target.get(key):
                causes.append(required(f"spec.scaleTargetRef.{key}"))
        low, high = spec.get("minReplicas", 1), spec.get("maxReplicas", 0)
        if isinstance(low, int) and low < 1:
            causes.append(invalid("spec.minReplicas", low, "must be greater than or equal to 1"))
        if isinstance(high, int) and isinstance(low, int) and high < low:
            causes.append(invalid("spec.maxReplicas", high, "must be greater than or equal to `minReplicas`"))
        return causes
