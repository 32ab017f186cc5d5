"""HorizontalPodAutoscalers (autoscaling/v2 and v1): at least one replica, CPU at 80 % unless told otherwise.

v2 is what the server keeps and validates; an object written through v1 goes through the v2 form
(converted, defaulted, converted back), as kube-apiserver stores v1 writes in v2: a v1 HPA without
a target answers with `targetCPUUtilizationPercentage: 80`, and v2-only fields carried in the
round-trip annotations come back defaulted.
"""

from __future__ import annotations

from kwok.apiserver import hpaconversion
from kwok.apiserver.registry import Cause, Obj, register
from kwok.apiserver.strategies.base import KindStrategy
from kwok.apiserver.strategies.fielderrors import invalid, required

DEFAULT_CPU_UTILIZATION = hpaconversion.DEFAULT_CPU_UTILIZATION
_SCALE_UP = {"stabilizationWindowSeconds": 0, "selectPolicy": "Max",
             "policies": [{"type": "Pods", "value": 4, "periodSeconds": 15},
                          {"type": "Percent", "value": 100, "periodSeconds": 15}]}
_SCALE_DOWN = {"stabilizationWindowSeconds": 300, "selectPolicy": "Max",
               "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}]}


@register("autoscaling", "horizontalpodautoscalers")
class HorizontalPodAutoscalerStrategy(KindStrategy):
    def default(self, obj: Obj) -> None:
        if self.info.version == "v1":
            v2 = hpaconversion.to_v2(obj)
            _default_v2(v2)
            obj.clear()
            obj.update(hpaconversion.to_v1(v2))
        else:
            _default_v2(obj)

    def validate_spec(self, obj: Obj) -> list[Cause]:
        if self.info.version == "v1":
            obj = hpaconversion.to_v2(obj)      # validated in the internal (v2) form, as upstream does
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
        for i, metric in enumerate(spec.get("metrics") or []):
            utilization = ((metric.get("resource") or {}).get("target") or {}).get("averageUtilization")
            if isinstance(utilization, int) and utilization <= 0:
                causes.append(invalid(f"spec.metrics[{i}].resource.target.averageUtilization", utilization,
                                      "must be greater than 0"))
        return causes


def _default_v2(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("minReplicas", 1)
    if not spec.get("metrics"):
        spec["metrics"] = [hpaconversion.cpu_utilization(DEFAULT_CPU_UTILIZATION)]
    if spec.get("behavior") is not None:
        behavior = spec["behavior"]
        for key, defaults in (("scaleUp", _SCALE_UP), ("scaleDown", _SCALE_DOWN)):
            behavior[key] = _default_rules(behavior.get(key), defaults)
    if "status" in obj:
        obj["status"].setdefault("desiredReplicas", 0)      # not omitempty: always written


def _default_rules(rules: Obj | None, defaults: Obj) -> Obj:
    """GenerateHPAScale{Up,Down}Rules: a missing rule is the default one; missing fields are filled."""
    out = dict(rules or {})
    for key, value in defaults.items():
        if out.get(key) is None or (key == "policies" and not out[key]):
            out[key] = [dict(p) for p in value] if key == "policies" else value
    return out
