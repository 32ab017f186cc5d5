"""Printers of workloads: Deployments, ReplicaSets, StatefulSets, DaemonSets, Jobs, CronJobs, HPAs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kwok.api.duration import human_duration, parse_time, since
from kwok.api.tables.cells import (
    Cells,
    Obj,
    age,
    as_int,
    format_label_selector,
    format_labels,
    get_path,
    meta_of,
    selector_string,
    template_containers,
)

# --- workloads --------------------------------------------------------------------------------------


def _template_spec(obj: Obj) -> Obj | None:
    return get_path(obj, "spec", "template", "spec")  # type: ignore[no-any-return]


def deployment_row(obj: Obj, now: datetime) -> Cells:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    names, images = template_containers(_template_spec(obj))
    return [meta_of(obj).get("name", ""), f"{as_int(status.get('readyReplicas'))}/{as_int(spec.get('replicas'))}",
            as_int(status.get("updatedReplicas")), as_int(status.get("availableReplicas")), age(obj, now),
            names, images, selector_string(spec.get("selector"))]


def replica_set_row(obj: Obj, now: datetime) -> Cells:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    names, images = template_containers(_template_spec(obj))
    return [meta_of(obj).get("name", ""), as_int(spec.get("replicas")), as_int(status.get("replicas")),
            as_int(status.get("readyReplicas")), age(obj, now), names, images,
            format_label_selector(spec.get("selector"))]


def replication_controller_row(obj: Obj, now: datetime) -> Cells:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    names, images = template_containers(_template_spec(obj))
    return [meta_of(obj).get("name", ""), as_int(spec.get("replicas")), as_int(status.get("replicas")),
            as_int(status.get("readyReplicas")), age(obj, now), names, images, format_labels(spec.get("selector"))]


def stateful_set_row(obj: Obj, now: datetime) -> Cells:
    names, images = template_containers(_template_spec(obj))
    ready, desired = as_int(get_path(obj, "status", "readyReplicas")), as_int(get_path(obj, "spec", "replicas"))
    return [meta_of(obj).get("name", ""), f"{ready}/{desired}", age(obj, now), names, images]


def daemon_set_row(obj: Obj, now: datetime) -> Cells:
    status = obj.get("status") or {}
    names, images = template_containers(_template_spec(obj))
    counts = ("desiredNumberScheduled", "currentNumberScheduled", "numberReady", "updatedNumberScheduled",
              "numberAvailable")
    return [meta_of(obj).get("name", ""), *(as_int(status.get(key)) for key in counts),
            format_labels(get_path(obj, "spec", "template", "spec", "nodeSelector")), age(obj, now),
            names, images, format_label_selector(get_path(obj, "spec", "selector"))]


_JOB_STATUS_ORDER = (("Complete", "Complete"), ("Failed", "Failed"), (None, "Terminating"),
                     ("Suspended", "Suspended"), ("FailureTarget", "FailureTarget"),
                     ("SuccessCriteriaMet", "SuccessCriteriaMet"))


def _job_status(job: Obj) -> str:
    # hasJobCondition looks only at the first condition of a type
    first: dict[str, Any] = {}
    for condition in get_path(job, "status", "conditions") or []:
        first.setdefault(condition.get("type"), condition.get("status"))
    for condition_type, word in _JOB_STATUS_ORDER:
        if condition_type is None:
            if meta_of(job).get("deletionTimestamp"):
                return word
        elif first.get(condition_type) == "True":
            return word
    return "Running"


def _job_completions(job: Obj) -> str:
    succeeded = as_int(get_path(job, "status", "succeeded"))
    completions = get_path(job, "spec", "completions")
    if completions is not None:
        return f"{succeeded}/{as_int(completions)}"
    parallelism = as_int(get_path(job, "spec", "parallelism"))
    return f"{succeeded}/1 of {parallelism}" if parallelism > 1 else f"{succeeded}/1"


def _job_duration(job: Obj, now: datetime) -> str:
    start = parse_time(get_path(job, "status", "startTime") or "")
    if start is None:
        return ""
    end = parse_time(get_path(job, "status", "completionTime") or "") or now
    return human_duration((end - start).total_seconds())


def job_row(job: Obj, now: datetime) -> Cells:
    names, images = template_containers(_template_spec(job))
    return [meta_of(job).get("name", ""), _job_status(job), _job_completions(job), _job_duration(job, now),
            age(job, now), names, images, format_label_selector(get_path(job, "spec", "selector"))]


def _bool_ptr(value: Any) -> str:
    return "<unset>" if value is None else "True" if value else "False"


def cron_job_row(obj: Obj, now: datetime) -> Cells:
    spec = obj.get("spec") or {}
    last = get_path(obj, "status", "lastScheduleTime")
    job_spec = get_path(spec, "jobTemplate", "spec")
    names, images = template_containers(get_path(job_spec, "template", "spec"))
    return [meta_of(obj).get("name", ""), spec.get("schedule", ""), spec.get("timeZone") or "<none>",
            _bool_ptr(spec.get("suspend")), len(get_path(obj, "status", "active") or []),
            since(last, now) if last else "<none>", age(obj, now), names, images,
            format_label_selector(get_path(job_spec, "selector"))]


def quantity_text(value: Any) -> str:
    """A stored quantity is already canonical; `.String()` of a missing one is "0"."""
    return "0" if value is None else str(value)


def _hpa_metric(spec: Obj, status: Obj | None) -> str:
    kind = spec.get("type")
    if kind in ("External", "Object"):
        key = "external" if kind == "External" else "object"
        target = get_path(spec, key, "target") or {}
        current_value = get_path(status, key, "current") or {}
        if target.get("averageValue") is not None:
            current = current_value.get("averageValue") if status and status.get(key) else None
            return f"{current or '<unknown>'}/{target['averageValue']} (avg)"
        current = quantity_text(current_value.get("value")) if status and status.get(key) else "<unknown>"
        return f"{current}/{quantity_text(target.get('value'))}"
    if kind == "Pods":
        current = quantity_text(get_path(status, "pods", "current", "averageValue")) if get_path(status, "pods") else "<unknown>"
        return f"{current}/{quantity_text(get_path(spec, 'pods', 'target', 'averageValue'))}"
    if kind in ("Resource", "ContainerResource"):
        key = "resource" if kind == "Resource" else "containerResource"
        source = spec.get(key) or {}
        target = source.get("target") or {}
        current_status = get_path(status, key)
        if target.get("averageValue") is not None:
            current = quantity_text(get_path(current_status, "current", "averageValue")) if current_status else "<unknown>"
            return f"{source.get('name', '')}: {current}/{target['averageValue']}"
        utilization = get_path(current_status, "current", "averageUtilization")
        current = f"{utilization}%" if utilization is not None else "<unknown>"
        goal = f"{target['averageUtilization']}%" if target.get("averageUtilization") is not None else "<auto>"
        return f"{source.get('name', '')}: {current}/{goal}"
    return "<unknown type>"


def format_hpa_metrics(specs: list[Obj] | None, statuses: list[Obj] | None, limit: int = 2) -> str:
    if not specs:
        return "<none>"
    statuses = statuses or []
    shown = [_hpa_metric(spec, statuses[i] if i < len(statuses) else None) for i, spec in enumerate(specs)]
    text = ", ".join(shown[:limit])
    return f"{text} + {len(shown) - limit} more..." if len(shown) > limit else text


def _hpa_metrics(obj: Obj) -> tuple[list[Obj] | None, list[Obj] | None]:
    """Metric specs and statuses; autoscaling/v1 keeps its one CPU target outside `metrics`."""
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    metrics, current = spec.get("metrics"), status.get("currentMetrics")
    if metrics is None and spec.get("targetCPUUtilizationPercentage") is not None:
        metrics = [{"type": "Resource", "resource": {"name": "cpu", "target": {
            "type": "Utilization", "averageUtilization": spec["targetCPUUtilizationPercentage"]}}}]
    if current is None and status.get("currentCPUUtilizationPercentage") is not None:
        current = [{"type": "Resource", "resource": {"name": "cpu", "current": {
            "averageUtilization": status["currentCPUUtilizationPercentage"]}}}]
    return metrics, current


def hpa_row(obj: Obj, now: datetime) -> Cells:
    spec = obj.get("spec") or {}
    target = spec.get("scaleTargetRef") or {}
    minimum = spec.get("minReplicas")
    return [meta_of(obj).get("name", ""), f"{target.get('kind', '')}/{target.get('name', '')}",
            format_hpa_metrics(*_hpa_metrics(obj)), "<unset>" if minimum is None else str(minimum),
            as_int(spec.get("maxReplicas")), as_int(get_path(obj, "status", "currentReplicas")), age(obj, now)]

