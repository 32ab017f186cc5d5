"""HorizontalPodAutoscaler between autoscaling/v1 and autoscaling/v2, as the real conversion does.

v1 only knows a CPU utilization target. What v2 says beyond it travels in annotations of the v1
object, so that a read-modify-write through v1 loses nothing (pkg/apis/autoscaling/v1/conversion.go):

    autoscaling.alpha.kubernetes.io/metrics          spec.metrics other than CPU utilization (v1 MetricSpec)
    autoscaling.alpha.kubernetes.io/current-metrics  status.currentMetrics, all of them (v1 MetricStatus)
    autoscaling.alpha.kubernetes.io/conditions       status.conditions
    autoscaling.alpha.kubernetes.io/behavior         spec.behavior, as Go marshals the *internal* type
                                                     (field names capitalized, no json tags)

Reading v1 into v2 lifts them back out and drops them; a v1 object without any target gets the
CPU 80 % target the controller applies, explicitly.
"""

from __future__ import annotations

import copy
from typing import Any

import orjson

Obj = dict[str, Any]
V1, V2 = "autoscaling/v1", "autoscaling/v2"
METRICS = "autoscaling.alpha.kubernetes.io/metrics"
CURRENT_METRICS = "autoscaling.alpha.kubernetes.io/current-metrics"
CONDITIONS = "autoscaling.alpha.kubernetes.io/conditions"
BEHAVIOR = "autoscaling.alpha.kubernetes.io/behavior"
ROUND_TRIP = (METRICS, CURRENT_METRICS, CONDITIONS, BEHAVIOR)
DEFAULT_CPU_UTILIZATION = 80


def convert(obj: Obj, api_version: str) -> Obj:
    """The HPA in `api_version`: a new object, which may share nested values with the input."""
    if obj.get("apiVersion") == api_version:
        return obj
    if api_version == V1:
        return to_v1(obj)
    return to_v2(obj)


# --- v2 -> v1 ------------------------------------------------------------------------------------
def to_v1(hpa: Obj) -> Obj:
    spec, status = hpa.get("spec") or {}, hpa.get("status")
    meta = copy.deepcopy(hpa.get("metadata") or {})
    annotations = dict(meta.get("annotations") or {})
    metrics = spec.get("metrics") or []
    others = [_metric_to_v1(m) for m in metrics if not _is_cpu_utilization(m)]
    current = (status or {}).get("currentMetrics") or []
    conditions = (status or {}).get("conditions") or []
    if others:
        annotations[METRICS] = _json(others)
    if current:
        annotations[CURRENT_METRICS] = _json([_status_to_v1(m) for m in current])
    if spec.get("behavior") is not None:
        annotations[BEHAVIOR] = _json(_internal_behavior(spec["behavior"]))
    if conditions:
        annotations[CONDITIONS] = _json(conditions)
    if annotations:
        meta["annotations"] = annotations
    out: Obj = {"kind": "HorizontalPodAutoscaler", "apiVersion": V1, "metadata": meta, "spec": _spec_to_v1(spec)}
    if status is not None:
        out["status"] = _status_fields_to_v1(status)
    return out


def _is_cpu_utilization(metric: Obj) -> bool:
    resource = metric.get("resource") or {}
    return (metric.get("type") == "Resource" and resource.get("name") == "cpu"
            and (resource.get("target") or {}).get("averageUtilization") is not None)


def _spec_to_v1(spec: Obj) -> Obj:
    out: Obj = {"scaleTargetRef": spec.get("scaleTargetRef") or {}}
    if spec.get("minReplicas") is not None:
        out["minReplicas"] = spec["minReplicas"]
    out["maxReplicas"] = spec.get("maxReplicas", 0)
    cpu = next((m for m in spec.get("metrics") or [] if _is_cpu_utilization(m)), None)
    if cpu is not None:
        out["targetCPUUtilizationPercentage"] = cpu["resource"]["target"]["averageUtilization"]
    return out


def _status_fields_to_v1(status: Obj) -> Obj:
    out: Obj = {k: status[k] for k in ("observedGeneration", "lastScaleTime") if k in status}
    out["currentReplicas"] = status.get("currentReplicas", 0)      # v1 writes both counts even when zero
    out["desiredReplicas"] = status.get("desiredReplicas", 0)
    for metric in status.get("currentMetrics") or []:
        resource = metric.get("resource") or {}
        current = (resource.get("current") or {}).get("averageUtilization")
        if metric.get("type") == "Resource" and resource.get("name") == "cpu" and current is not None:
            out["currentCPUUtilizationPercentage"] = current
    return out


# How each metric source maps between the versions: (v1 field, v2 path, the value of an absent
# field; v1's non-pointer Quantities read as "0"). Specs and statuses differ in their field names.
Fields = tuple[tuple[str, tuple[str, ...], Any], ...]
_NAME, _SELECTOR = ("metricName", ("metric", "name"), ""), ("selector", ("metric", "selector"), None)
_SPEC_FIELDS: dict[str, Fields] = {
    "Object": (("target", ("describedObject",), {}), _NAME, ("targetValue", ("target", "value"), "0"), _SELECTOR,
               ("averageValue", ("target", "averageValue"), None)),
    "Pods": (_NAME, ("targetAverageValue", ("target", "averageValue"), "0"), _SELECTOR),
    "Resource": (("name", ("name",), ""), ("targetAverageUtilization", ("target", "averageUtilization"), None),
                 ("targetAverageValue", ("target", "averageValue"), None)),
    "External": (_NAME, ("metricSelector", ("metric", "selector"), None), ("targetValue", ("target", "value"), None),
                 ("targetAverageValue", ("target", "averageValue"), None)),
}
_STATUS_FIELDS: dict[str, Fields] = {
    "Object": (("target", ("describedObject",), {}), _NAME, ("currentValue", ("current", "value"), "0"), _SELECTOR,
               ("averageValue", ("current", "averageValue"), None)),
    "Pods": (_NAME, ("currentAverageValue", ("current", "averageValue"), "0"), _SELECTOR),
    "Resource": (("name", ("name",), ""), ("currentAverageUtilization", ("current", "averageUtilization"), None),
                 ("currentAverageValue", ("current", "averageValue"), "0")),
    "External": (_NAME, ("metricSelector", ("metric", "selector"), None), ("currentValue", ("current", "value"), "0"),
                 ("currentAverageValue", ("current", "averageValue"), None)),
}
for _table in (_SPEC_FIELDS, _STATUS_FIELDS):
    _table["ContainerResource"] = (*_table["Resource"], ("container", ("container",), ""))
_SOURCE_KEYS = {"Object": "object", "Pods": "pods", "Resource": "resource", "ContainerResource": "containerResource",
                "External": "external"}


def _metric_to_v1(metric: Obj) -> Obj:
    return _source_to_v1(metric, _SPEC_FIELDS)


def _status_to_v1(metric: Obj) -> Obj:
    return _source_to_v1(metric, _STATUS_FIELDS)


def _source_to_v1(metric: Obj, table: dict[str, Fields]) -> Obj:
    kind = metric.get("type", "")
    key = _SOURCE_KEYS.get(kind)
    out: Obj = {"type": kind}
    if key is not None and isinstance(metric.get(key), dict):
        source = metric[key]
        values = ((field, _path(source, path), default) for field, path, default in table[kind])
        out[key] = {field: default if value is None else value for field, value, default in values
                    if value is not None or default is not None}
    return out


def _path(obj: Obj, path: tuple[str, ...]) -> Any:
    value: Any = obj
    for step in path:
        value = value.get(step) if isinstance(value, dict) else None
    return value


def _internal_behavior(behavior: Obj) -> Obj:
    return {"ScaleUp": _internal_rules(behavior.get("scaleUp")), "ScaleDown": _internal_rules(behavior.get("scaleDown"))}


def _internal_rules(rules: Obj | None) -> Obj | None:
    if rules is None:
        return None
    return {"StabilizationWindowSeconds": rules.get("stabilizationWindowSeconds"),
            "SelectPolicy": rules.get("selectPolicy"),
            "Policies": [{"Type": p.get("type", ""), "Value": p.get("value", 0), "PeriodSeconds": p.get("periodSeconds", 0)}
                         for p in rules.get("policies") or []] or None,
            "Tolerance": rules.get("tolerance")}


# --- v1 -> v2 ------------------------------------------------------------------------------------
def to_v2(hpa: Obj) -> Obj:
    spec, status = hpa.get("spec") or {}, hpa.get("status")
    meta = copy.deepcopy(hpa.get("metadata") or {})
    annotations = dict(meta.get("annotations") or {})
    out_spec: Obj = {"scaleTargetRef": spec.get("scaleTargetRef") or {}}
    if spec.get("minReplicas") is not None:
        out_spec["minReplicas"] = spec["minReplicas"]
    out_spec["maxReplicas"] = spec.get("maxReplicas", 0)
    metrics = [_metric_to_v2(m) for m in _parsed(annotations.get(METRICS)) or []]
    if spec.get("targetCPUUtilizationPercentage") is not None:
        metrics.append(cpu_utilization(spec["targetCPUUtilizationPercentage"]))
    out_spec["metrics"] = metrics or [cpu_utilization(DEFAULT_CPU_UTILIZATION)]
    behavior = _parsed(annotations.get(BEHAVIOR))
    if isinstance(behavior, dict) and any(v is not None for v in behavior.values()):
        out_spec["behavior"] = _drop_none({"scaleUp": _rules(behavior.get("ScaleUp")),
                                           "scaleDown": _rules(behavior.get("ScaleDown"))})
    for key in ROUND_TRIP:
        annotations.pop(key, None)
    if annotations:
        meta["annotations"] = annotations
    else:
        meta.pop("annotations", None)
    out: Obj = {"kind": "HorizontalPodAutoscaler", "apiVersion": V2, "metadata": meta, "spec": out_spec}
    if status is not None:
        out["status"] = _status_fields_to_v2(status, hpa.get("metadata") or {})
    return out


def cpu_utilization(percent: int) -> Obj:
    return {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization",
                                                                        "averageUtilization": percent}}}


def _status_fields_to_v2(status: Obj, meta: Obj) -> Obj:
    annotations = meta.get("annotations") or {}
    out: Obj = {k: status[k] for k in ("observedGeneration", "lastScaleTime") if k in status}
    if status.get("currentReplicas"):                                # omitempty in v2
        out["currentReplicas"] = status["currentReplicas"]
    out["desiredReplicas"] = status.get("desiredReplicas", 0)
    current = _parsed(annotations.get(CURRENT_METRICS))
    if current is not None:      # the annotation holds all of them: the v1 CPU field is not added again
        out["currentMetrics"] = [_status_to_v2(m) for m in current]
    elif status.get("currentCPUUtilizationPercentage") is not None:
        out["currentMetrics"] = [{"type": "Resource", "resource": {"name": "cpu", "current": {
            "averageUtilization": status["currentCPUUtilizationPercentage"]}}}]
    conditions = _parsed(annotations.get(CONDITIONS))
    if conditions:
        out["conditions"] = conditions
    return out


def _metric_to_v2(metric: Obj) -> Obj:
    out = _source_to_v2(metric, _SPEC_FIELDS)
    source = out.get(_SOURCE_KEYS.get(out["type"], ""))
    if source is not None:      # the target type v1 leaves implicit
        target = source.setdefault("target", {})
        target["type"] = _target_type(out["type"], target)
    return out


def _target_type(kind: str, target: Obj) -> str:
    if kind == "Pods" or (kind == "Object" and "averageValue" in target):
        return "AverageValue"
    if kind in ("Resource", "ContainerResource"):
        return "AverageValue" if "averageValue" in target else "Utilization"
    if kind == "External":
        return "Value" if "value" in target else "AverageValue"
    return "Value"


def _status_to_v2(metric: Obj) -> Obj:
    return _source_to_v2(metric, _STATUS_FIELDS)


def _source_to_v2(metric: Obj, table: dict[str, Fields]) -> Obj:
    kind = metric.get("type", "")
    key = _SOURCE_KEYS.get(kind)
    out: Obj = {"type": kind}
    if key is not None and isinstance(metric.get(key), dict):
        source = metric[key]
        converted: Obj = {}
        for field, path, default in table[kind]:
            value = source.get(field, default)
            if value is not None:
                *parents, leaf = path
                node = converted
                for step in parents:
                    node = node.setdefault(step, {})
                node[leaf] = value
        out[key] = converted
    return out


def _rules(rules: Obj | None) -> Obj | None:
    if not isinstance(rules, dict):
        return None
    policies = [{"type": p.get("Type", ""), "value": p.get("Value", 0), "periodSeconds": p.get("PeriodSeconds", 0)}
                for p in rules.get("Policies") or []]
    return _drop_none({"stabilizationWindowSeconds": rules.get("StabilizationWindowSeconds"),
                       "selectPolicy": rules.get("SelectPolicy"), "policies": policies or None,
                       "tolerance": rules.get("Tolerance")})


# --- helpers -------------------------------------------------------------------------------------
def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _parsed(text: str | None) -> Any:
    """An annotation's JSON; None when absent or unreadable (the real conversion ignores bad ones)."""
    if not text:
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return None


def _drop_none(mapping: Obj) -> Obj:
    return {k: v for k, v in mapping.items() if v is not None}
