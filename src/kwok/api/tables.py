"""Server-side Table rendering (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`).

`kubectl get` prints whatever columns and cells the API server puts in a `meta.k8s.io/v1` Table,
so these follow the kube-apiserver 1.36 printers (`pkg/printers/internalversion/printers.go`)
cell by cell. The server always renders the wide columns (priority 1) and kubectl hides them
unless `-o wide`. Resources without a printer there (roles, clusterroles, limitranges, CRDs)
use apiserver's default convertor: Name and "Created At" (an RFC 3339 time). Custom resources
use their CRD's `additionalPrinterColumns` (see `custom_resource_columns`).

PUBLIC NAMES (the API server calls these):

    table(resource, group, objects, now, include_object="Metadata", list_meta=None,
          printer_columns=None) -> dict
        # the Table for a list (or one object: pass [obj]). `printer_columns` is the CRD
        # version's additionalPrinterColumns for a custom resource (None: a built-in resource).
        # include_object: "Metadata" (default, also ""), "Object" or "None"; anything else raises
        # ApiError 400 `unrecognized includeObject value: "x"`.
    column_definitions(resource, group, printer_columns=None) -> list[dict]
    rows(resource, group, objects, now, include_object="Metadata", printer_columns=None) -> list[dict]
        # just the rows (watch events send a one-row Table per event)

Times are relative to `now` (a timezone-aware datetime); nothing here reads the clock.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

import orjson

from kwok.api import errors
from kwok.api.duration import human_duration, parse_time, since
from kwok.api.jsonpath import JSONPath, JSONPathError, compile_path, print_value
from kwok.api.selectors import SelectorError, label_selector_from_object

Obj = Mapping[str, Any]
Cells = list[Any]
Row = Callable[[Obj, datetime], Cells]

_NAME_DOC = (
    "Name must be unique within a namespace. Is required when creating resources, although some "
    "resources may allow a client to request the generation of an appropriate name automatically. "
    "Name is primarily intended for creation idempotence and configuration definition. Cannot be "
    "updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
)
_AGE_DOC = (
    "CreationTimestamp is a timestamp representing the server time when this object was created. "
    "It is not guaranteed to be set in happens-before order across separate operations. Clients "
    "may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the "
    "system. Read-only. Null for lists. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
)


def _col(name: str, type_: str = "string", priority: int = 0, description: str = "", format_: str = "") -> dict[str, Any]:
    return {"name": name, "type": type_, "format": format_, "description": description or name,
            "priority": priority}


NAME = _col("Name", format_="name", description=_NAME_DOC)
AGE = _col("Age", description=_AGE_DOC)
CONTAINERS = _col("Containers", priority=1, description="Names of each container in the template.")
IMAGES = _col("Images", priority=1, description="Images referenced by each container in the template.")
SELECTOR = _col("Selector", priority=1, description="A label query over pods that should match the replica count.")


# --- small formatters shared by several printers ---------------------------------------------------


def _meta(obj: Obj) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def _get(obj: Obj | None, *path: str) -> Any:
    value: Any = obj
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def age(obj: Obj, now: datetime) -> str:
    return since(_meta(obj).get("creationTimestamp"), now)


def format_labels(labels: Mapping[str, str] | None) -> str:
    """labels.FormatLabels: `a=b,c=d` sorted by key, `<none>` when empty."""
    if not labels:
        return "<none>"
    return ",".join(f"{key}={labels[key]}" for key in sorted(labels))


def format_label_selector(selector: Mapping[str, Any] | None) -> str:
    """metav1.FormatLabelSelector: the canonical selector string, `<none>` when it selects all."""
    try:
        text = str(label_selector_from_object(selector))
    except SelectorError:
        return "<error>"
    return text or "<none>"


def _selector_string(selector: Mapping[str, Any] | None) -> str:
    """LabelSelectorAsSelector(...).String(): empty for a nil or empty selector."""
    try:
        return str(label_selector_from_object(selector))
    except SelectorError:
        return "<invalid>"


def _containers(template_spec: Obj | None) -> tuple[str, str]:
    containers = (template_spec or {}).get("containers") or []
    return (",".join(c.get("name", "") for c in containers),
            ",".join(c.get("image", "") for c in containers))


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int | float) else 0


def _list_with_more(items: list[str], count: int, limit: int = 3) -> str:
    text = ",".join(items[:limit])
    if count > limit:
        return f"{text} + {count - limit} more..."
    return text or "<unset>"


def _created_at(obj: Obj, _now: datetime) -> str:
    parsed = parse_time(_meta(obj).get("creationTimestamp") or "")
    return parsed.strftime("%Y-%m-%dT%H:%M:%SZ") if parsed else "0001-01-01T00:00:00Z"


# --- pods -------------------------------------------------------------------------------------------
# The Status cell walks init containers, then app containers from last to first, as kubelet-facing
# printers do; the reason of the last one that is waiting or terminated wins.

_POD_COMPLETED = {"type": "Completed", "status": "True"}
_POD_SUCCEEDED = [{**_POD_COMPLETED, "reason": "Succeeded", "message": "The pod has completed successfully."}]
_POD_FAILED = [{**_POD_COMPLETED, "reason": "Failed", "message": "The pod failed."}]
_NODE_UNREACHABLE_REASON = "NodeLost"


class _Restarts:
    """Restart count and the latest restart time, as printPod accumulates them."""

    def __init__(self) -> None:
        self.count = 0
        self.last: datetime | None = None

    def add(self, status: Obj) -> None:
        self.count += _int(status.get("restartCount"))
        finished = parse_time(_get(status, "lastState", "terminated", "finishedAt") or "")
        if finished and (self.last is None or finished > self.last):
            self.last = finished

    def cell(self, now: datetime) -> str:
        if self.count and self.last is not None:
            return f"{self.count} ({human_duration((now - self.last).total_seconds())} ago)"
        return str(self.count)


def _is_sidecar(container: Obj | None) -> bool:
    return bool(container) and container.get("restartPolicy") == "Always"  # type: ignore[union-attr]


def _terminated_reason(terminated: Obj, prefix: str) -> str:
    if terminated.get("reason"):
        return f"{prefix}{terminated['reason']}"
    if terminated.get("signal"):
        return f"{prefix}Signal:{terminated['signal']}"
    return f"{prefix}ExitCode:{_int(terminated.get('exitCode'))}"


def _condition_true(conditions: Iterable[Obj] | None, type_: str) -> bool:
    return any(c.get("type") == type_ and c.get("status") == "True" for c in conditions or ())


def _init_status(pod: Obj, reason: str) -> tuple[str, bool, int, _Restarts, _Restarts]:
    """Walk init containers; returns (reason, initializing, ready sidecars, all, sidecar restarts)."""
    spec_inits = {c.get("name"): c for c in _get(pod, "spec", "initContainers") or []}
    total_inits = len(spec_inits)
    restarts, sidecar_restarts, ready = _Restarts(), _Restarts(), 0
    for index, status in enumerate(_get(pod, "status", "initContainerStatuses") or []):
        restarts.add(status)
        sidecar = _is_sidecar(spec_inits.get(status.get("name")))
        if sidecar:
            sidecar_restarts.add(status)
        state = status.get("state") or {}
        terminated, waiting = state.get("terminated"), state.get("waiting")
        if terminated is not None and _int(terminated.get("exitCode")) == 0:
            continue
        if sidecar and status.get("started"):
            ready += 1 if status.get("ready") else 0
            continue
        if terminated is not None:
            reason = _terminated_reason(terminated, "Init:")
        elif waiting is not None and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{index}/{total_inits}"
        return reason, True, ready, restarts, sidecar_restarts
    return reason, False, ready, restarts, sidecar_restarts


def _pod_status(pod: Obj) -> tuple[str, int, _Restarts]:
    """printPod's Status cell, ready container count and restarts."""
    status = pod.get("status") or {}
    phase = status.get("phase") or ""
    reason = status.get("reason") or phase
    for condition in status.get("conditions") or ():
        if condition.get("type") == "PodScheduled" and condition.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"
    reason, initializing, ready, restarts, sidecar_restarts = _init_status(pod, reason)
    if not initializing or _condition_true(status.get("conditions"), "Initialized"):
        restarts, has_running = sidecar_restarts, False
        for container in reversed(status.get("containerStatuses") or []):
            restarts.add(container)
            state = container.get("state") or {}
            waiting, terminated = state.get("waiting"), state.get("terminated")
            if waiting is not None and waiting.get("reason"):
                reason = waiting["reason"]
            elif terminated is not None:
                reason = _terminated_reason(terminated, "")
            elif container.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            reason = "Running" if _condition_true(status.get("conditions"), "Ready") else "NotReady"
    if _meta(pod).get("deletionTimestamp"):
        if status.get("reason") == _NODE_UNREACHABLE_REASON:
            reason = "Unknown"
        elif phase not in ("Succeeded", "Failed"):
            reason = "Terminating"
    return reason, ready, restarts


def _total_containers(pod: Obj) -> int:
    spec = pod.get("spec") or {}
    sidecars = sum(1 for c in spec.get("initContainers") or [] if _is_sidecar(c))
    return len(spec.get("containers") or []) + sidecars


def _readiness_gates(pod: Obj) -> str:
    gates = _get(pod, "spec", "readinessGates") or []
    if not gates:
        return "<none>"
    first_by_type: dict[str, Any] = {}
    for condition in _get(pod, "status", "conditions") or []:
        first_by_type.setdefault(condition.get("type"), condition.get("status"))
    true_count = sum(1 for gate in gates if first_by_type.get(gate.get("conditionType")) == "True")
    return f"{true_count}/{len(gates)}"


def _pod_row(pod: Obj, now: datetime) -> Cells:
    reason, ready, restarts = _pod_status(pod)
    status = pod.get("status") or {}
    pod_ips = status.get("podIPs") or []
    pod_ip = (pod_ips[0].get("ip") if pod_ips else status.get("podIP")) or "<none>"
    return [
        _meta(pod).get("name", ""), f"{ready}/{_total_containers(pod)}", reason, restarts.cell(now),
        age(pod, now), pod_ip, _get(pod, "spec", "nodeName") or "<none>",
        status.get("nominatedNodeName") or "<none>", _readiness_gates(pod),
    ]


def _pod_conditions(pod: Obj) -> list[dict[str, str]] | None:
    phase = _get(pod, "status", "phase")
    return _POD_SUCCEEDED if phase == "Succeeded" else _POD_FAILED if phase == "Failed" else None


# --- nodes, namespaces, core objects ----------------------------------------------------------------

_ROLE_PREFIX = "node-role.kubernetes.io/"


def node_roles(labels: Mapping[str, str] | None) -> list[str]:
    roles = set()
    for key, value in (labels or {}).items():
        if key.startswith(_ROLE_PREFIX) and len(key) > len(_ROLE_PREFIX):
            roles.add(key[len(_ROLE_PREFIX):])
        elif key == "kubernetes.io/role" and value:
            roles.add(value)
    return sorted(roles)


def _node_status(node: Obj) -> str:
    ready = None
    for condition in _get(node, "status", "conditions") or []:
        if condition.get("type") == "Ready":
            ready = condition  # printNode keeps the last one, as its map does
    words = ["Unknown" if ready is None else "Ready" if ready.get("status") == "True" else "NotReady"]
    if _get(node, "spec", "unschedulable"):
        words.append("SchedulingDisabled")
    return ",".join(words)


def _node_address(node: Obj, type_: str) -> str:
    for address in _get(node, "status", "addresses") or []:
        if address.get("type") == type_:
            return str(address.get("address", ""))
    return "<none>"


def _node_row(node: Obj, now: datetime) -> Cells:
    info = _get(node, "status", "nodeInfo") or {}
    return [
        _meta(node).get("name", ""), _node_status(node), ",".join(node_roles(_meta(node).get("labels"))) or "<none>",
        age(node, now), info.get("kubeletVersion", ""), _node_address(node, "InternalIP"),
        _node_address(node, "ExternalIP"), info.get("osImage") or "<unknown>",
        info.get("kernelVersion") or "<unknown>", info.get("containerRuntimeVersion") or "<unknown>",
    ]


def _load_balancer(status: Obj | None) -> str:
    found = {i.get("ip") or i.get("hostname") for i in _get(status, "loadBalancer", "ingress") or []}
    return ",".join(sorted(v for v in found if v))


def _service_external_ip(service: Obj) -> str:
    spec = service.get("spec") or {}
    external = spec.get("externalIPs") or []
    kind = spec.get("type") or ""
    if kind in ("ClusterIP", "NodePort"):
        return ",".join(external) or "<none>"
    if kind == "LoadBalancer":
        balancer = _load_balancer(service.get("status"))
        if external:
            return ",".join(([balancer] if balancer else []) + external)
        return balancer or "<pending>"
    if kind == "ExternalName":
        return str(spec.get("externalName", ""))
    return "<unknown>"


def _service_ports(ports: list[Obj]) -> str:
    pieces = []
    for port in ports:
        node_port = _int(port.get("nodePort"))
        prefix = f"{_int(port.get('port'))}:{node_port}" if node_port > 0 else f"{_int(port.get('port'))}"
        pieces.append(f"{prefix}/{port.get('protocol', '')}")
    return ",".join(pieces) or "<none>"


def _service_row(service: Obj, now: datetime) -> Cells:
    spec = service.get("spec") or {}
    cluster_ips = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
    return [
        _meta(service).get("name", ""), spec.get("type", ""), cluster_ips[0] if cluster_ips else "<none>",
        _service_external_ip(service), _service_ports(spec.get("ports") or []), age(service, now),
        format_labels(spec.get("selector")),
    ]


def _join_host_port(ip: str, port: int) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def format_endpoints(subsets: list[Obj] | None, limit: int = 3) -> str:
    if not subsets:
        return "<none>"
    shown: list[str] = []
    count = 0
    for subset in subsets:
        addresses = [a.get("ip", "") for a in subset.get("addresses") or []]
        ports = subset.get("ports") or []
        for port in ports or [None]:
            count += len(addresses)
            for ip in addresses:
                if len(shown) < limit:
                    shown.append(ip if port is None else _join_host_port(ip, _int(port.get("port"))))
    text = ",".join(shown)
    return f"{text} + {count - limit} more..." if count > limit else text


def _endpoint_slice_row(obj: Obj, now: datetime) -> Cells:
    ports = [str(p["port"]) if p.get("port") is not None else p.get("name") or "*" for p in obj.get("ports") or []]
    addresses = [a for e in obj.get("endpoints") or [] for a in e.get("addresses") or []]
    return [_meta(obj).get("name", ""), obj.get("addressType", ""), _list_with_more(ports, len(ports)),
            _list_with_more(addresses, len(addresses)), age(obj, now)]


def _event_source(event: Obj) -> str:
    component = _get(event, "source", "component") or event.get("reportingComponent") or ""
    host = _get(event, "source", "host") or event.get("reportingInstance") or ""
    return f"{component}, {host}" if host else component


_EVENTS_V1_FIELDS = (("regarding", "involvedObject"), ("note", "message"), ("deprecatedSource", "source"),
                     ("deprecatedFirstTimestamp", "firstTimestamp"), ("deprecatedLastTimestamp", "lastTimestamp"),
                     ("deprecatedCount", "count"), ("reportingController", "reportingComponent"))


def _events_v1_row(event: Obj, now: datetime) -> Cells:
    """events.k8s.io Events print as core Events, after the same field conversion."""
    core = dict(event)
    for new_name, core_name in _EVENTS_V1_FIELDS:
        if new_name in event:
            core[core_name] = event[new_name]
    return _event_row(core, now)


def _event_row(event: Obj, now: datetime) -> Cells:
    first = since(event.get("firstTimestamp"), now) if event.get("firstTimestamp") else since(event.get("eventTime"), now)
    last = since(event.get("lastTimestamp"), now) if event.get("lastTimestamp") else first
    count = _int(event.get("count")) or 1
    if event.get("series"):
        last = since(_get(event, "series", "lastObservedTime"), now)
        count = _int(_get(event, "series", "count"))
    involved = event.get("involvedObject") or {}
    kind = str(involved.get("kind", "")).lower()
    target = f"{kind}/{involved['name']}" if involved.get("name") else kind
    return [last, event.get("type", ""), event.get("reason", ""), target, involved.get("fieldPath", ""),
            _event_source(event), str(event.get("message", "")).strip(), first, count, _meta(event).get("name", "")]


# --- workloads --------------------------------------------------------------------------------------


def _template_spec(obj: Obj) -> Obj | None:
    return _get(obj, "spec", "template", "spec")  # type: ignore[no-any-return]


def _deployment_row(obj: Obj, now: datetime) -> Cells:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    names, images = _containers(_template_spec(obj))
    return [_meta(obj).get("name", ""), f"{_int(status.get('readyReplicas'))}/{_int(spec.get('replicas'))}",
            _int(status.get("updatedReplicas")), _int(status.get("availableReplicas")), age(obj, now),
            names, images, _selector_string(spec.get("selector"))]


def _replica_set_row(obj: Obj, now: datetime) -> Cells:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    names, images = _containers(_template_spec(obj))
    return [_meta(obj).get("name", ""), _int(spec.get("replicas")), _int(status.get("replicas")),
            _int(status.get("readyReplicas")), age(obj, now), names, images,
            format_label_selector(spec.get("selector"))]


def _replication_controller_row(obj: Obj, now: datetime) -> Cells:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    names, images = _containers(_template_spec(obj))
    return [_meta(obj).get("name", ""), _int(spec.get("replicas")), _int(status.get("replicas")),
            _int(status.get("readyReplicas")), age(obj, now), names, images, format_labels(spec.get("selector"))]


def _stateful_set_row(obj: Obj, now: datetime) -> Cells:
    names, images = _containers(_template_spec(obj))
    ready, desired = _int(_get(obj, "status", "readyReplicas")), _int(_get(obj, "spec", "replicas"))
    return [_meta(obj).get("name", ""), f"{ready}/{desired}", age(obj, now), names, images]


def _daemon_set_row(obj: Obj, now: datetime) -> Cells:
    status = obj.get("status") or {}
    names, images = _containers(_template_spec(obj))
    counts = ("desiredNumberScheduled", "currentNumberScheduled", "numberReady", "updatedNumberScheduled",
              "numberAvailable")
    return [_meta(obj).get("name", ""), *(_int(status.get(key)) for key in counts),
            format_labels(_get(obj, "spec", "template", "spec", "nodeSelector")), age(obj, now),
            names, images, format_label_selector(_get(obj, "spec", "selector"))]


_JOB_STATUS_ORDER = (("Complete", "Complete"), ("Failed", "Failed"), (None, "Terminating"),
                     ("Suspended", "Suspended"), ("FailureTarget", "FailureTarget"),
                     ("SuccessCriteriaMet", "SuccessCriteriaMet"))


def _job_status(job: Obj) -> str:
    # hasJobCondition looks only at the first condition of a type
    first: dict[str, Any] = {}
    for condition in _get(job, "status", "conditions") or []:
        first.setdefault(condition.get("type"), condition.get("status"))
    for condition_type, word in _JOB_STATUS_ORDER:
        if condition_type is None:
            if _meta(job).get("deletionTimestamp"):
                return word
        elif first.get(condition_type) == "True":
            return word
    return "Running"


def _job_completions(job: Obj) -> str:
    succeeded = _int(_get(job, "status", "succeeded"))
    completions = _get(job, "spec", "completions")
    if completions is not None:
        return f"{succeeded}/{_int(completions)}"
    parallelism = _int(_get(job, "spec", "parallelism"))
    return f"{succeeded}/1 of {parallelism}" if parallelism > 1 else f"{succeeded}/1"


def _job_duration(job: Obj, now: datetime) -> str:
    start = parse_time(_get(job, "status", "startTime") or "")
    if start is None:
        return ""
    end = parse_time(_get(job, "status", "completionTime") or "") or now
    return human_duration((end - start).total_seconds())


def _job_row(job: Obj, now: datetime) -> Cells:
    names, images = _containers(_template_spec(job))
    return [_meta(job).get("name", ""), _job_status(job), _job_completions(job), _job_duration(job, now),
            age(job, now), names, images, format_label_selector(_get(job, "spec", "selector"))]


def _bool_ptr(value: Any) -> str:
    return "<unset>" if value is None else "True" if value else "False"


def _cron_job_row(obj: Obj, now: datetime) -> Cells:
    spec = obj.get("spec") or {}
    last = _get(obj, "status", "lastScheduleTime")
    job_spec = _get(spec, "jobTemplate", "spec")
    names, images = _containers(_get(job_spec, "template", "spec"))
    return [_meta(obj).get("name", ""), spec.get("schedule", ""), spec.get("timeZone") or "<none>",
            _bool_ptr(spec.get("suspend")), len(_get(obj, "status", "active") or []),
            since(last, now) if last else "<none>", age(obj, now), names, images,
            format_label_selector(_get(job_spec, "selector"))]


def _quantity_text(value: Any) -> str:
    """A stored quantity is already canonical; `.String()` of a missing one is "0"."""
    return "0" if value is None else str(value)


def _hpa_metric(spec: Obj, status: Obj | None) -> str:
    kind = spec.get("type")
    if kind in ("External", "Object"):
        key = "external" if kind == "External" else "object"
        target = _get(spec, key, "target") or {}
        current_value = _get(status, key, "current") or {}
        if target.get("averageValue") is not None:
            current = current_value.get("averageValue") if status and status.get(key) else None
            return f"{current or '<unknown>'}/{target['averageValue']} (avg)"
        current = _quantity_text(current_value.get("value")) if status and status.get(key) else "<unknown>"
        return f"{current}/{_quantity_text(target.get('value'))}"
    if kind == "Pods":
        current = _quantity_text(_get(status, "pods", "current", "averageValue")) if _get(status, "pods") else "<unknown>"
        return f"{current}/{_quantity_text(_get(spec, 'pods', 'target', 'averageValue'))}"
    if kind in ("Resource", "ContainerResource"):
        key = "resource" if kind == "Resource" else "containerResource"
        source = spec.get(key) or {}
        target = source.get("target") or {}
        current_status = _get(status, key)
        if target.get("averageValue") is not None:
            current = _quantity_text(_get(current_status, "current", "averageValue")) if current_status else "<unknown>"
            return f"{source.get('name', '')}: {current}/{target['averageValue']}"
        utilization = _get(current_status, "current", "averageUtilization")
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


def _hpa_row(obj: Obj, now: datetime) -> Cells:
    spec = obj.get("spec") or {}
    target = spec.get("scaleTargetRef") or {}
    minimum = spec.get("minReplicas")
    return [_meta(obj).get("name", ""), f"{target.get('kind', '')}/{target.get('name', '')}",
            format_hpa_metrics(*_hpa_metrics(obj)), "<unset>" if minimum is None else str(minimum),
            _int(spec.get("maxReplicas")), _int(_get(obj, "status", "currentReplicas")), age(obj, now)]


# --- config, policy, storage, RBAC, misc ----------------------------------------------------------


def _int_or_string(value: Any) -> str:
    return "N/A" if value is None else str(value)


def _pdb_row(obj: Obj, now: datetime) -> Cells:
    spec = obj.get("spec") or {}
    return [_meta(obj).get("name", ""), _int_or_string(spec.get("minAvailable")),
            _int_or_string(spec.get("maxUnavailable")), _int(_get(obj, "status", "disruptionsAllowed")), age(obj, now)]


def _resource_quota_row(obj: Obj, now: datetime) -> Cells:
    hard = _get(obj, "status", "hard") or {}
    used = _get(obj, "status", "used") or {}
    requests: list[str] = []
    limits: list[str] = []
    for resource in sorted(hard):
        text = f"{resource}: {_quantity_text(used.get(resource))}/{_quantity_text(hard[resource])}"
        pieces = resource.split(".")
        (limits if len(pieces) > 1 and pieces[0] == "limits" else requests).append(text)
    return [_meta(obj).get("name", ""), ", ".join(requests), ", ".join(limits), age(obj, now)]


_ACCESS_MODES = (("ReadWriteOnce", "RWO"), ("ReadOnlyMany", "ROX"), ("ReadWriteMany", "RWX"),
                 ("ReadWriteOncePod", "RWOP"))


def access_modes(modes: list[str] | None) -> str:
    present = set(modes or ())
    return ",".join(short for mode, short in _ACCESS_MODES if mode in present)


def _deleting_phase(obj: Obj) -> str:
    return "Terminating" if _meta(obj).get("deletionTimestamp") else str(_get(obj, "status", "phase") or "")


def _pv_row(obj: Obj, now: datetime) -> Cells:
    spec = obj.get("spec") or {}
    claim = spec.get("claimRef")
    storage_class = (_meta(obj).get("annotations") or {}).get("volume.beta.kubernetes.io/storage-class")
    return [_meta(obj).get("name", ""), _quantity_text((spec.get("capacity") or {}).get("storage")),
            access_modes(spec.get("accessModes")), spec.get("persistentVolumeReclaimPolicy", ""),
            _deleting_phase(obj), f"{claim.get('namespace', '')}/{claim.get('name', '')}" if claim else "",
            storage_class if storage_class is not None else spec.get("storageClassName", ""),
            spec.get("volumeAttributesClassName") or "<unset>", _get(obj, "status", "reason") or "",
            age(obj, now), spec.get("volumeMode") or "<unset>"]


def _pvc_row(obj: Obj, now: datetime) -> Cells:
    spec = obj.get("spec") or {}
    bound = bool(spec.get("volumeName"))
    capacity = _quantity_text((_get(obj, "status", "capacity") or {}).get("storage")) if bound else ""
    modes = access_modes(_get(obj, "status", "accessModes")) if bound else ""
    storage_class = (_meta(obj).get("annotations") or {}).get("volume.beta.kubernetes.io/storage-class")
    return [_meta(obj).get("name", ""), _deleting_phase(obj), spec.get("volumeName", ""), capacity, modes,
            storage_class if storage_class is not None else spec.get("storageClassName") or "",
            spec.get("volumeAttributesClassName") or "<unset>", age(obj, now), spec.get("volumeMode") or "<unset>"]


_DEFAULT_CLASS = ("storageclass.kubernetes.io/is-default-class", "storageclass.beta.kubernetes.io/is-default-class")


def _storage_class_row(obj: Obj, now: datetime) -> Cells:
    annotations = _meta(obj).get("annotations") or {}
    name = _meta(obj).get("name", "")
    if any(annotations.get(key) == "true" for key in _DEFAULT_CLASS):
        name += " (default)"
    return [name, obj.get("provisioner", ""), obj.get("reclaimPolicy") or "Delete",
            obj.get("volumeBindingMode") or "Immediate", bool(obj.get("allowVolumeExpansion")), age(obj, now)]


def _ingress_hosts(rules: list[Obj], limit: int = 3) -> str:
    hosts: list[str] = []
    more = False
    for rule in rules:
        more = more or len(hosts) == limit
        if not more and rule.get("host"):
            hosts.append(rule["host"])
    if not hosts:
        return "*"
    text = ",".join(hosts)
    return f"{text} + {len(rules) - limit} more..." if more else text


def _ingress_row(obj: Obj, now: datetime) -> Cells:
    spec = obj.get("spec") or {}
    return [_meta(obj).get("name", ""), spec.get("ingressClassName") or "<none>",
            _ingress_hosts(spec.get("rules") or []), _load_balancer(obj.get("status")),
            "80, 443" if spec.get("tls") else "80", age(obj, now)]


def _ingress_class_row(obj: Obj, now: datetime) -> Cells:
    params = _get(obj, "spec", "parameters")
    text = "<none>"
    if params:
        group = f".{params['apiGroup']}" if params.get("apiGroup") is not None else ""
        text = f"{params.get('kind', '')}{group}/{params.get('name', '')}"
    return [_meta(obj).get("name", ""), _get(obj, "spec", "controller") or "", text, age(obj, now)]


def _subjects(subjects: list[Obj] | None) -> list[str]:
    users, groups, accounts = [], [], []
    for subject in subjects or []:
        kind, name = subject.get("kind"), subject.get("name", "")
        if kind == "User":
            users.append(name)
        elif kind == "Group":
            groups.append(name)
        elif kind == "ServiceAccount":
            accounts.append(f"{subject.get('namespace', '')}/{name}")
    return [", ".join(users), ", ".join(groups), ", ".join(accounts)]


def _binding_row(obj: Obj, now: datetime) -> Cells:
    ref = obj.get("roleRef") or {}
    return [_meta(obj).get("name", ""), f"{ref.get('kind', '')}/{ref.get('name', '')}", age(obj, now),
            *_subjects(obj.get("subjects"))]


def _csr_condition(obj: Obj) -> str:
    types = {c.get("type") for c in _get(obj, "status", "conditions") or []}
    text = "Denied" if "Denied" in types else "Approved" if "Approved" in types else "Pending"
    if "Failed" in types:
        text += ",Failed"
    if _get(obj, "status", "certificate"):
        text += ",Issued"
    return text


def _csr_row(obj: Obj, now: datetime) -> Cells:
    spec = obj.get("spec") or {}
    seconds = spec.get("expirationSeconds")
    return [_meta(obj).get("name", ""), age(obj, now), spec.get("signerName") or "<none>", spec.get("username", ""),
            human_duration(seconds) if seconds is not None else "<none>", _csr_condition(obj)]


def _simple(*fields: tuple[str, ...], count: bool = False) -> Row:
    """A row of Name, each field (a path; with count=True its length), then Age."""

    def row(obj: Obj, now: datetime) -> Cells:
        values = [_get(obj, *path) for path in fields]
        if count:
            values = [len(v or ()) for v in values]
        return [_meta(obj).get("name", ""), *("" if v is None else v for v in values), age(obj, now)]

    return row


def _config_map_row(obj: Obj, now: datetime) -> Cells:
    return [_meta(obj).get("name", ""), len(obj.get("data") or {}) + len(obj.get("binaryData") or {}), age(obj, now)]


def _secret_row(obj: Obj, now: datetime) -> Cells:
    return [_meta(obj).get("name", ""), obj.get("type", ""), len(obj.get("data") or {}), age(obj, now)]


def _priority_class_row(obj: Obj, now: datetime) -> Cells:
    return [_meta(obj).get("name", ""), _int(obj.get("value")), bool(obj.get("globalDefault")), age(obj, now),
            obj.get("preemptionPolicy") or ""]


def _network_policy_row(obj: Obj, now: datetime) -> Cells:
    return [_meta(obj).get("name", ""), format_label_selector(_get(obj, "spec", "podSelector") or {}), age(obj, now)]


def _created_at_row(obj: Obj, now: datetime) -> Cells:
    return [_meta(obj).get("name", ""), _created_at(obj, now)]


# --- the less common kinds ------------------------------------------------------------------------


def _fields(*paths: str, default: Any = "") -> Row:
    """A row of Name, the value at each dotted path (or `default`), then Age."""
    split = [tuple(path.split(".")) for path in paths]

    def row(obj: Obj, now: datetime) -> Cells:
        values = [_get(obj, *path) for path in split]
        return [_meta(obj).get("name", ""), *(default if v is None else v for v in values), age(obj, now)]

    return row


def _volume_attachment_row(obj: Obj, now: datetime) -> Cells:
    spec = obj.get("spec") or {}
    return [_meta(obj).get("name", ""), spec.get("attacher", ""), _get(spec, "source", "persistentVolumeName") or "",
            spec.get("nodeName", ""), bool(_get(obj, "status", "attached")), age(obj, now)]


def _csi_driver_row(obj: Obj, now: datetime) -> Cells:
    spec = obj.get("spec") or {}
    tokens = spec.get("tokenRequests")
    return [_meta(obj).get("name", ""), spec.get("attachRequired", True) is not False,
            bool(spec.get("podInfoOnMount")), bool(spec.get("storageCapacity")),
            "<unset>" if tokens is None else ",".join(t.get("audience", "") for t in tokens),
            bool(spec.get("requiresRepublish")), ",".join(spec.get("volumeLifecycleModes") or []) or "<none>",
            age(obj, now)]


def _param_kind(obj: Obj) -> str:
    kind = _get(obj, "spec", "paramKind")
    return f"{kind.get('apiVersion', '')}/{kind.get('kind', '')}" if kind else "<unset>"


def _admission_policy_row(rules: str) -> Row:
    def row(obj: Obj, now: datetime) -> Cells:
        return [_meta(obj).get("name", ""), len(_get(obj, "spec", rules) or []), _param_kind(obj), age(obj, now)]

    return row


def _policy_binding_row(obj: Obj, now: datetime) -> Cells:
    ref = _get(obj, "spec", "paramRef")
    text = "<unset>"
    if ref and ref.get("name"):
        text = f"{ref.get('namespace') or '*'}/{ref['name']}"
    elif ref and ref.get("selector") is not None:
        text = format_label_selector(ref["selector"])
    return [_meta(obj).get("name", ""), _get(obj, "spec", "policyName") or "", text, age(obj, now)]


def _flow_schema_row(obj: Obj, now: datetime) -> Cells:
    spec = obj.get("spec") or {}
    dangling = next((c.get("status", "") for c in _get(obj, "status", "conditions") or []
                     if c.get("type") == "Dangling"), "?")
    return [_meta(obj).get("name", ""), _get(spec, "priorityLevelConfiguration", "name") or "",
            _int(spec.get("matchingPrecedence")), _get(spec, "distinguisherMethod", "type") or "<none>",
            age(obj, now), dangling]


def _priority_level_row(obj: Obj, now: datetime) -> Cells:
    limited = _get(obj, "spec", "limited")
    queuing = _get(limited, "limitResponse", "queuing") if limited else None
    shares = limited.get("nominalConcurrencyShares", 0) if limited else "<none>"
    queue = [queuing.get(k, 0) for k in ("queues", "handSize", "queueLengthLimit")] if queuing else ["<none>"] * 3
    return [_meta(obj).get("name", ""), _get(obj, "spec", "type") or "", shares, *queue, age(obj, now)]


def _resource_claim_state(obj: Obj) -> str:
    deleting = bool(_meta(obj).get("deletionTimestamp"))
    states = ["deleted"] if deleting else []
    if _get(obj, "status", "allocation") is None:
        return ",".join(states if deleting else ["pending"])
    states.append("allocated")
    if _get(obj, "status", "reservedFor"):
        states.append("reserved")
    elif deleting:
        states.append("deallocating")
    return ",".join(states)


def _component_status_row(obj: Obj, _now: datetime) -> Cells:
    for condition in obj.get("conditions") or []:
        if condition.get("type") == "Healthy":
            health = "Healthy" if condition.get("status") == "True" else "Unhealthy"
            return [_meta(obj).get("name", ""), health, condition.get("message", ""), condition.get("error", "")]
    return [_meta(obj).get("name", ""), "Unknown", "", ""]


def _ip_address_row(obj: Obj, now: datetime) -> Cells:
    ref = _get(obj, "spec", "parentRef")
    text = "<none>"
    if ref:
        resource = f"{ref.get('resource', '')}.{ref['group']}" if ref.get("group") else ref.get("resource", "")
        namespace = f"/{ref['namespace']}" if ref.get("namespace") else ""
        text = f"{resource.lower()}{namespace}/{ref.get('name', '')}"
    return [_meta(obj).get("name", ""), text, age(obj, now)]  # upstream prints Age without a column


def _api_service_row(obj: Obj, now: datetime) -> Cells:
    service = _get(obj, "spec", "service")
    where = f"{service.get('namespace', '')}/{service.get('name', '')}" if service else "Local"
    available = "Unknown"
    for condition in _get(obj, "status", "conditions") or []:
        if condition.get("type") == "Available":
            status, reason = condition.get("status", ""), condition.get("reason")
            available = f"{status} ({reason})" if status != "True" and reason else status
    return [_meta(obj).get("name", ""), where, available, age(obj, now)]


# --- the printer table ---------------------------------------------------------------------------

_WIDE = 1
_CREATED_AT_COLUMNS = (NAME, _col("Created At", "date", description=_AGE_DOC))
# a kind this table does not know: its name and age
_DEFAULT_COLUMNS = (NAME, AGE)


def _cols(*specs: tuple[Any, ...] | dict[str, Any]) -> tuple[dict[str, Any], ...]:
    return tuple(spec if isinstance(spec, dict) else _col(*spec) for spec in specs)


_PRINTERS: dict[tuple[str, str], tuple[tuple[dict[str, Any], ...], Row]] = {
    ("", "pods"): (_cols(NAME, ("Ready", "string", 0, "The aggregate readiness state of this pod for accepting traffic."),
                         ("Status", "string", 0, "The aggregate status of the containers in this pod."),
                         ("Restarts", "string", 0, "The number of times the containers in this pod have been "
                          "restarted and when the last container in this pod has restarted."),
                         AGE, ("IP", "string", _WIDE, "podIP"), ("Node", "string", _WIDE, "nodeName"),
                         ("Nominated Node", "string", _WIDE, "nominatedNodeName"),
                         ("Readiness Gates", "string", _WIDE, "readinessGates")), _pod_row),
    ("", "nodes"): (_cols(NAME, ("Status", "string", 0, "The status of the node"),
                          ("Roles", "string", 0, "The roles of the node"), AGE, ("Version",),
                          ("Internal-IP", "string", _WIDE), ("External-IP", "string", _WIDE),
                          ("OS-Image", "string", _WIDE), ("Kernel-Version", "string", _WIDE),
                          ("Container-Runtime", "string", _WIDE)), _node_row),
    ("", "namespaces"): (_cols(NAME, ("Status", "string", 0, "The status of the namespace"), AGE),
                         _simple(("status", "phase"))),
    ("", "services"): (_cols(NAME, ("Type",), ("Cluster-IP",), ("External-IP",), ("Port(s)",), AGE,
                             ("Selector", "string", _WIDE)), _service_row),
    ("", "endpoints"): (_cols(NAME, ("Endpoints",), AGE),
                        lambda o, now: [_meta(o).get("name", ""), format_endpoints(o.get("subsets")), age(o, now)]),
    ("discovery.k8s.io", "endpointslices"): (_cols(NAME, ("AddressType",), ("Ports",), ("Endpoints",), AGE),
                                             _endpoint_slice_row),
    ("", "configmaps"): (_cols(NAME, ("Data",), AGE), _config_map_row),
    ("", "secrets"): (_cols(NAME, ("Type",), ("Data",), AGE), _secret_row),
    # since 1.35 (kubernetes#117160) the unused `secrets` count is no longer printed
    ("", "serviceaccounts"): (_cols(NAME, AGE), _simple()),
    ("", "events"): (_cols(("Last Seen",), ("Type",), ("Reason",), ("Object",), ("Subobject", "string", _WIDE),
                           ("Source", "string", _WIDE), ("Message",), ("First Seen", "string", _WIDE),
                           ("Count", "string", _WIDE), {**NAME, "priority": _WIDE}), _event_row),
    ("", "replicationcontrollers"): (_cols(NAME, ("Desired", "integer"), ("Current", "integer"), ("Ready", "integer"),
                                           AGE, CONTAINERS, IMAGES, SELECTOR), _replication_controller_row),
    ("", "persistentvolumes"): (_cols(NAME, ("Capacity",), ("Access Modes",), ("Reclaim Policy",), ("Status",),
                                      ("Claim",), ("StorageClass",), ("VolumeAttributesClass",), ("Reason",), AGE,
                                      ("VolumeMode", "string", _WIDE)), _pv_row),
    ("", "persistentvolumeclaims"): (_cols(NAME, ("Status",), ("Volume",), ("Capacity",), ("Access Modes",),
                                           ("StorageClass",), ("VolumeAttributesClass",), AGE,
                                           ("VolumeMode", "string", _WIDE)), _pvc_row),
    ("", "resourcequotas"): (_cols(NAME, ("Request",), ("Limit",), AGE), _resource_quota_row),
    ("", "podtemplates"): (_cols(NAME, ("Containers",), ("Images",), ("Pod Labels",)),
                           lambda o, now: [_meta(o).get("name", ""), *_containers(_get(o, "template", "spec")),
                                           format_labels(_get(o, "template", "metadata", "labels"))]),
    ("apps", "deployments"): (_cols(NAME, ("Ready",), ("Up-to-date",), ("Available",), AGE, CONTAINERS, IMAGES,
                                    SELECTOR), _deployment_row),
    ("apps", "replicasets"): (_cols(NAME, ("Desired", "integer"), ("Current", "integer"), ("Ready", "integer"), AGE,
                                    CONTAINERS, IMAGES, SELECTOR), _replica_set_row),
    ("apps", "statefulsets"): (_cols(NAME, ("Ready",), AGE, CONTAINERS, IMAGES), _stateful_set_row),
    ("apps", "daemonsets"): (_cols(NAME, ("Desired", "integer"), ("Current", "integer"), ("Ready", "integer"),
                                   ("Up-to-date", "integer"), ("Available", "integer"), ("Node Selector",), AGE,
                                   CONTAINERS, IMAGES, SELECTOR), _daemon_set_row),
    ("apps", "controllerrevisions"): (_cols(NAME, ("Controller",), ("Revision",), AGE),
                                      lambda o, now: [_meta(o).get("name", ""), _controller_of(o),
                                                      _int(o.get("revision")), age(o, now)]),
    ("batch", "jobs"): (_cols(NAME, ("Status", "string", 0, "Status of the job."), ("Completions",),
                              ("Duration", "string", 0, "Time required to complete the job."), AGE,
                              CONTAINERS, IMAGES, SELECTOR), _job_row),
    ("batch", "cronjobs"): (_cols(NAME, ("Schedule",), ("Timezone",), ("Suspend", "boolean"), ("Active", "integer"),
                                  ("Last Schedule",), AGE, CONTAINERS, IMAGES, SELECTOR), _cron_job_row),
    ("autoscaling", "horizontalpodautoscalers"): (_cols(NAME, ("Reference",), ("Targets",), ("MinPods",),
                                                        ("MaxPods",), ("Replicas",), AGE), _hpa_row),
    ("coordination.k8s.io", "leases"): (_cols(NAME, ("Holder",), AGE), _simple(("spec", "holderIdentity"))),
    ("storage.k8s.io", "storageclasses"): (_cols(NAME, ("Provisioner",), ("ReclaimPolicy",), ("VolumeBindingMode",),
                                                 ("AllowVolumeExpansion",), AGE), _storage_class_row),
    ("storage.k8s.io", "csinodes"): (_cols(NAME, ("Drivers", "integer"), AGE), _simple(("spec", "drivers"), count=True)),
    ("networking.k8s.io", "ingresses"): (_cols(NAME, ("Class",), ("Hosts",), ("Address",), ("Ports",), AGE),
                                         _ingress_row),
    ("networking.k8s.io", "ingressclasses"): (_cols(NAME, ("Controller",), ("Parameters",), AGE), _ingress_class_row),
    ("networking.k8s.io", "networkpolicies"): (_cols(NAME, ("Pod-Selector",), AGE), _network_policy_row),
    ("policy", "poddisruptionbudgets"): (_cols(NAME, ("Min Available",), ("Max Unavailable",),
                                               ("Allowed Disruptions", "integer"), AGE), _pdb_row),
    ("scheduling.k8s.io", "priorityclasses"): (_cols(NAME, ("Value", "integer"), ("Global-Default", "boolean"), AGE,
                                                     ("PreemptionPolicy",)), _priority_class_row),
    ("node.k8s.io", "runtimeclasses"): (_cols(NAME, ("Handler",), AGE), _simple(("handler",))),
    ("rbac.authorization.k8s.io", "rolebindings"): (_cols(NAME, ("Role",), AGE, ("Users", "string", _WIDE),
                                                          ("Groups", "string", _WIDE),
                                                          ("ServiceAccounts", "string", _WIDE)), _binding_row),
    ("certificates.k8s.io", "certificatesigningrequests"): (_cols(NAME, AGE, ("SignerName",), ("Requestor",),
                                                                  ("RequestedDuration",), ("Condition",)), _csr_row),
    ("admissionregistration.k8s.io", "mutatingwebhookconfigurations"): (
        _cols(NAME, ("Webhooks", "integer"), AGE), _simple(("webhooks",), count=True)),
    ("admissionregistration.k8s.io", "validatingwebhookconfigurations"): (
        _cols(NAME, ("Webhooks", "integer"), AGE), _simple(("webhooks",), count=True)),
}
_PRINTERS.update({
    ("", "componentstatuses"): (_cols(NAME, ("Status",), ("Message",), ("Error",)), _component_status_row),
    ("storage.k8s.io", "volumeattachments"): (_cols(NAME, ("Attacher", "string", 0, "", "name"), ("PV",), ("Node",),
                                                    ("Attached", "boolean"), AGE), _volume_attachment_row),
    ("storage.k8s.io", "csidrivers"): (_cols(NAME, ("AttachRequired", "boolean"), ("PodInfoOnMount", "boolean"),
                                             ("StorageCapacity", "boolean"), ("TokenRequests",),
                                             ("RequiresRepublish", "boolean"), ("Modes",), AGE), _csi_driver_row),
    ("storage.k8s.io", "csistoragecapacities"): (
        _cols(NAME, ("StorageClassName",), ("Capacity",)),
        lambda o, now: [_meta(o).get("name", ""), o.get("storageClassName", ""), o.get("capacity") or "<unset>"]),
    ("storage.k8s.io", "volumeattributesclasses"): (_cols(NAME, ("DriverName",), AGE), _fields("driverName")),
    ("networking.k8s.io", "servicecidrs"): (
        _cols(NAME, ("CIDRs",), AGE),
        lambda o, now: [_meta(o).get("name", ""), ",".join(_get(o, "spec", "cidrs") or []), age(o, now)]),
    ("networking.k8s.io", "ipaddresses"): (_cols(NAME, ("ParentRef",)), _ip_address_row),
    ("coordination.k8s.io", "leasecandidates"): (_cols(NAME, ("LeaseName",), ("BinaryVersion",),
                                                       ("EmulationVersion",), AGE),
                                                 _fields("spec.leaseName", "spec.binaryVersion",
                                                         "spec.emulationVersion")),
    ("certificates.k8s.io", "clustertrustbundles"): (
        _cols(NAME, ("SignerName",)),
        lambda o, now: [_meta(o).get("name", ""), _get(o, "spec", "signerName") or "<none>"]),
    ("admissionregistration.k8s.io", "validatingadmissionpolicies"): (
        _cols(NAME, ("Validations", "integer"), ("ParamKind",), AGE), _admission_policy_row("validations")),
    ("admissionregistration.k8s.io", "mutatingadmissionpolicies"): (
        _cols(NAME, ("Mutations", "integer"), ("ParamKind",), AGE), _admission_policy_row("mutations")),
    ("admissionregistration.k8s.io", "validatingadmissionpolicybindings"): (
        _cols(NAME, ("PolicyName",), ("ParamRef",), AGE), _policy_binding_row),
    ("admissionregistration.k8s.io", "mutatingadmissionpolicybindings"): (
        _cols(NAME, ("PolicyName",), ("ParamRef",), AGE), _policy_binding_row),
    ("flowcontrol.apiserver.k8s.io", "flowschemas"): (
        _cols(NAME, ("PriorityLevel",), ("MatchingPrecedence",), ("DistinguisherMethod",), AGE, ("MissingPL",)),
        _flow_schema_row),
    ("flowcontrol.apiserver.k8s.io", "prioritylevelconfigurations"): (
        _cols(NAME, ("Type",), ("NominalConcurrencyShares",), ("Queues",), ("HandSize",), ("QueueLengthLimit",), AGE),
        _priority_level_row),
    ("resource.k8s.io", "deviceclasses"): (_cols(NAME, AGE), _fields()),
    ("resource.k8s.io", "resourceclaimtemplates"): (_cols(NAME, AGE), _fields()),
    ("resource.k8s.io", "resourceclaims"): (
        _cols(NAME, ("State", "string", 0, "A summary of the current state (allocated, pending, reserved, etc.)."),
              AGE),
        lambda o, now: [_meta(o).get("name", ""), _resource_claim_state(o), age(o, now)]),
    ("resource.k8s.io", "resourceslices"): (_cols(NAME, ("Node",), ("Driver",), ("Pool",), AGE),
                                            _fields("spec.nodeName", "spec.driver", "spec.pool.name")),
    ("apiregistration.k8s.io", "apiservices"): (_cols(NAME, ("Service",), ("Available",), AGE), _api_service_row),
})
# Served through apiserver's default convertor (no printer upstream): Name and "Created At".
for _resource in (("rbac.authorization.k8s.io", "roles"), ("rbac.authorization.k8s.io", "clusterroles"),
                  ("", "limitranges"), ("apiextensions.k8s.io", "customresourcedefinitions")):
    _PRINTERS[_resource] = (_CREATED_AT_COLUMNS, _created_at_row)
_PRINTERS[("rbac.authorization.k8s.io", "clusterrolebindings")] = _PRINTERS[
    ("rbac.authorization.k8s.io", "rolebindings")]
_PRINTERS[("extensions", "ingresses")] = _PRINTERS[("networking.k8s.io", "ingresses")]
_PRINTERS[("events.k8s.io", "events")] = (_PRINTERS[("", "events")][0], _events_v1_row)


def _controller_of(obj: Obj) -> str:
    for ref in _meta(obj).get("ownerReferences") or []:
        if ref.get("controller"):
            group = str(ref.get("apiVersion", "")).rpartition("/")[0]
            kind = f"{ref.get('kind', '')}.{group}" if group else str(ref.get("kind", ""))
            return f"{kind.lower()}/{ref.get('name', '')}"
    return "<none>"


# --- custom resources ----------------------------------------------------------------------------

_DEFAULT_CR_COLUMNS = ({"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp",
                        "description": _AGE_DOC},)


def custom_resource_columns(printer_columns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The Table columns of a CRD version: Name, then each printer column (Age when none)."""
    columns = [dict(NAME)]
    for column in printer_columns or _DEFAULT_CR_COLUMNS:
        path = column.get("jsonPath", "")
        columns.append({
            "name": column.get("name", ""), "type": column.get("type", ""), "format": column.get("format", ""),
            "description": column.get("description")
            or f"Custom resource definition column (in JSONPath format): {path}",
            "priority": _int(column.get("priority")),
        })
    return columns


def _cr_cell(column_type: str, values: list[Any], now: datetime) -> Any:
    if not values:
        return None
    value = values[0]
    if column_type == "string":
        return print_value(value)
    if value is None:
        return None
    if column_type == "integer" and isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    if column_type == "number" and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if column_type == "boolean" and isinstance(value, bool):
        return value
    if column_type == "date" and isinstance(value, str):
        return since(value, now) if parse_time(value) else "<invalid>"
    return None


def _custom_resource_row(printer_columns: list[dict[str, Any]]) -> Row:
    compiled: list[tuple[str, JSONPath | None]] = []
    for column in printer_columns or _DEFAULT_CR_COLUMNS:
        try:
            compiled.append((column.get("type", ""), compile_path(column.get("jsonPath", ""))))
        except JSONPathError:
            compiled.append((column.get("type", ""), None))

    def row(obj: Obj, now: datetime) -> Cells:
        cells: Cells = [_meta(obj).get("name", "")]
        for column_type, path in compiled:
            cells.append(_cr_cell(column_type, path.find(obj), now) if path else None)
        return cells

    return row


# --- assembling the Table -------------------------------------------------------------------------


# --- column descriptions ---------------------------------------------------------------------------
# Upstream describes most columns with the Go doc of a field (`SwaggerDoc()`); these name that
# field as "<proto package below k8s.io.api>.<Message>.<field>", read from the shipped
# descriptions (the v1 twin where upstream cites a retired beta type).

_COLUMN_DOCS: dict[tuple[str, str], dict[str, str]] = {
    ("", "pods"): {"IP": "core.v1.PodStatus.podIP", "Node": "core.v1.PodSpec.nodeName",
                   "Nominated Node": "core.v1.PodStatus.nominatedNodeName",
                   "Readiness Gates": "core.v1.PodSpec.readinessGates"},
    ("", "replicationcontrollers"): {"Desired": "core.v1.ReplicationControllerSpec.replicas",
                                     "Current": "core.v1.ReplicationControllerStatus.replicas",
                                     "Ready": "core.v1.ReplicationControllerStatus.readyReplicas",
                                     "Selector": "core.v1.ReplicationControllerSpec.selector"},
    ("apps", "replicasets"): {"Desired": "apps.v1.ReplicaSetSpec.replicas", "Current": "apps.v1.ReplicaSetStatus.replicas",
                              "Ready": "apps.v1.ReplicaSetStatus.readyReplicas",
                              "Selector": "apps.v1.ReplicaSetSpec.selector"},
    ("apps", "daemonsets"): {"Desired": "apps.v1.DaemonSetStatus.desiredNumberScheduled",
                             "Current": "apps.v1.DaemonSetStatus.currentNumberScheduled",
                             "Ready": "apps.v1.DaemonSetStatus.numberReady",
                             "Up-to-date": "apps.v1.DaemonSetStatus.updatedNumberScheduled",
                             "Available": "apps.v1.DaemonSetStatus.numberAvailable",
                             "Node Selector": "core.v1.PodSpec.nodeSelector", "Selector": "apps.v1.DaemonSetSpec.selector"},
    ("apps", "deployments"): {"Up-to-date": "apps.v1.DeploymentStatus.updatedReplicas",
                              "Available": "apps.v1.DeploymentStatus.availableReplicas",
                              "Selector": "apps.v1.DeploymentSpec.selector"},
    ("apps", "controllerrevisions"): {"Revision": "apps.v1.ControllerRevision.revision"},
    ("batch", "jobs"): {"Completions": "batch.v1.JobStatus.succeeded", "Selector": "batch.v1.JobSpec.selector"},
    ("batch", "cronjobs"): {"Schedule": "batch.v1.CronJobSpec.schedule", "Timezone": "batch.v1.CronJobSpec.timeZone",
                            "Suspend": "batch.v1.CronJobSpec.suspend", "Active": "batch.v1.CronJobStatus.active",
                            "Last Schedule": "batch.v1.CronJobStatus.lastScheduleTime",
                            "Selector": "batch.v1.JobSpec.selector"},
    ("", "services"): {"Type": "core.v1.ServiceSpec.type", "Cluster-IP": "core.v1.ServiceSpec.clusterIP",
                       "External-IP": "core.v1.ServiceSpec.externalIPs", "Port(s)": "core.v1.ServiceSpec.ports",
                       "Selector": "core.v1.ServiceSpec.selector"},
    ("", "endpoints"): {"Endpoints": "core.v1.Endpoints.subsets"},
    ("", "nodes"): {"Version": "core.v1.NodeSystemInfo.kubeletVersion", "Internal-IP": "core.v1.NodeStatus.addresses",
                    "External-IP": "core.v1.NodeStatus.addresses", "OS-Image": "core.v1.NodeSystemInfo.osImage",
                    "Kernel-Version": "core.v1.NodeSystemInfo.kernelVersion",
                    "Container-Runtime": "core.v1.NodeSystemInfo.containerRuntimeVersion"},
    ("", "events"): {"Last Seen": "core.v1.Event.lastTimestamp", "Type": "core.v1.Event.type",
                     "Reason": "core.v1.Event.reason", "Object": "core.v1.Event.involvedObject",
                     "Subobject": "core.v1.ObjectReference.fieldPath", "Source": "core.v1.Event.source",
                     "Message": "core.v1.Event.message", "First Seen": "core.v1.Event.firstTimestamp",
                     "Count": "core.v1.Event.count"},
    ("", "secrets"): {"Type": "core.v1.Secret.type", "Data": "core.v1.Secret.data"},
    ("", "configmaps"): {"Data": "core.v1.ConfigMap.data"},
    ("", "persistentvolumes"): {"Capacity": "core.v1.PersistentVolumeSpec.capacity",
                                "Access Modes": "core.v1.PersistentVolumeSpec.accessModes",
                                "Reclaim Policy": "core.v1.PersistentVolumeSpec.persistentVolumeReclaimPolicy",
                                "Status": "core.v1.PersistentVolumeStatus.phase",
                                "Claim": "core.v1.PersistentVolumeSpec.claimRef",
                                "Reason": "core.v1.PersistentVolumeStatus.reason",
                                "VolumeMode": "core.v1.PersistentVolumeSpec.volumeMode"},
    ("", "persistentvolumeclaims"): {"Status": "core.v1.PersistentVolumeClaimStatus.phase",
                                     "Volume": "core.v1.PersistentVolumeClaimSpec.volumeName",
                                     "Capacity": "core.v1.PersistentVolumeClaimStatus.capacity",
                                     "Access Modes": "core.v1.PersistentVolumeClaimStatus.accessModes",
                                     "VolumeMode": "core.v1.PersistentVolumeClaimSpec.volumeMode"},
    ("autoscaling", "horizontalpodautoscalers"): {
        "Reference": "autoscaling.v2.HorizontalPodAutoscalerSpec.scaleTargetRef",
        "Targets": "autoscaling.v2.HorizontalPodAutoscalerSpec.metrics",
        "MinPods": "autoscaling.v2.HorizontalPodAutoscalerSpec.minReplicas",
        "MaxPods": "autoscaling.v2.HorizontalPodAutoscalerSpec.maxReplicas",
        "Replicas": "autoscaling.v2.HorizontalPodAutoscalerStatus.currentReplicas"},
    ("networking.k8s.io", "networkpolicies"): {"Pod-Selector": "networking.v1.NetworkPolicySpec.podSelector"},
    ("rbac.authorization.k8s.io", "rolebindings"): {"Role": "rbac.v1.RoleBinding.roleRef"},
    ("rbac.authorization.k8s.io", "clusterrolebindings"): {"Role": "rbac.v1.ClusterRoleBinding.roleRef"},
    ("certificates.k8s.io", "certificatesigningrequests"): {
        "SignerName": "certificates.v1.CertificateSigningRequestSpec.signerName",
        "Requestor": "certificates.v1.CertificateSigningRequestSpec.request",
        "RequestedDuration": "certificates.v1.CertificateSigningRequestSpec.expirationSeconds",
        "Condition": "certificates.v1.CertificateSigningRequestStatus.conditions"},
    ("coordination.k8s.io", "leases"): {"Holder": "coordination.v1.LeaseSpec.holderIdentity"},
    ("storage.k8s.io", "storageclasses"): {"Provisioner": "storage.v1.StorageClass.provisioner",
                                           "ReclaimPolicy": "storage.v1.StorageClass.reclaimPolicy",
                                           "VolumeBindingMode": "storage.v1.StorageClass.volumeBindingMode",
                                           "AllowVolumeExpansion": "storage.v1.StorageClass.allowVolumeExpansion"},
    ("scheduling.k8s.io", "priorityclasses"): {"Value": "scheduling.v1.PriorityClass.value",
                                               "Global-Default": "scheduling.v1.PriorityClass.globalDefault",
                                               "PreemptionPolicy": "scheduling.v1.PriorityClass.preemptionPolicy"},
    ("discovery.k8s.io", "endpointslices"): {"AddressType": "discovery.v1.EndpointSlice.addressType",
                                             "Ports": "discovery.v1.EndpointSlice.ports",
                                             "Endpoints": "discovery.v1.EndpointSlice.endpoints"},
    ("storage.k8s.io", "volumeattachments"): {"Attacher": "storage.v1.VolumeAttachmentSpec.attacher",
                                              "PV": "storage.v1.VolumeAttachmentSource.persistentVolumeName",
                                              "Node": "storage.v1.VolumeAttachmentSpec.nodeName",
                                              "Attached": "storage.v1.VolumeAttachmentStatus.attached"},
}
_READY_PODS = "=Number of the pod with ready state"
_WEBHOOKS = "=Webhooks indicates the number of webhooks registered in this configuration"
_PARAM_KIND = "=ParamKind specifies the kind of resources used to parameterize this policy"
_BINDING = {"PolicyName": "=PolicyName indicates the policy definition which the policy binding binded to",
            "ParamRef": "=ParamRef indicates the param resource which sets the configration param"}


def _subjects_docs(kind: str) -> dict[str, str]:
    return {column: f"={column} in the {kind}" for column in ("Users", "Groups", "ServiceAccounts")}


# Columns upstream describes with a fixed sentence ("=" prefix), or with a doc it cannot find ("").
_COLUMN_DOCS.update({
    ("apps", "statefulsets"): {"Ready": _READY_PODS},
    ("networking.k8s.io", "ingresses"): {
        "Class": "=The name of the IngressClass resource that should be used for additional configuration",
        "Hosts": "=Hosts that incoming requests are matched against before the ingress rule",
        "Address": "=Address is a list containing ingress points for the load-balancer",
        "Ports": "=Ports of TLS configurations that open"},
    ("networking.k8s.io", "ingressclasses"): {
        "Controller": "=Controller that is responsible for handling this class",
        "Parameters": "=A reference to a resource with additional parameters"},
    ("policy", "poddisruptionbudgets"): {
        "Min Available": "=The minimum number of pods that must be available.",
        "Max Unavailable": "=The maximum number of pods that may be unavailable.",
        "Allowed Disruptions": "=Calculated number of pods that may be disrupted at this time."},
    ("", "resourcequotas"): {
        "Request": "=Request represents a minimum amount of cpu/memory that a container may consume.",
        "Limit": "=Limits control the maximum amount of cpu/memory that a container may use independent of "
                 "contention on the node."},
    ("", "componentstatuses"): {name: f"={name} of the component conditions" for name in ("Status", "Message", "Error")},
    ("", "podtemplates"): {"Pod Labels": "=The labels for the pod template."},
    ("storage.k8s.io", "csinodes"): {"Drivers": "=Drivers indicates the number of CSI drivers registered on the node"},
    ("admissionregistration.k8s.io", "mutatingwebhookconfigurations"): {"Webhooks": _WEBHOOKS},
    ("admissionregistration.k8s.io", "validatingwebhookconfigurations"): {"Webhooks": _WEBHOOKS},
    ("admissionregistration.k8s.io", "validatingadmissionpolicies"): {
        "Validations": "=Validations indicates the number of validation rules defined in this configuration",
        "ParamKind": _PARAM_KIND},
    ("admissionregistration.k8s.io", "mutatingadmissionpolicies"): {
        "Mutations": "=Mutation indicates the number of mutations rules defined in this configuration",
        "ParamKind": _PARAM_KIND},
    ("admissionregistration.k8s.io", "validatingadmissionpolicybindings"): _BINDING,
    ("admissionregistration.k8s.io", "mutatingadmissionpolicybindings"): _BINDING,
    ("flowcontrol.apiserver.k8s.io", "flowschemas"): {
        "MissingPL": "=references a broken or non-existent PriorityLevelConfiguration"},
    ("node.k8s.io", "runtimeclasses"): {"Handler": "="},
    ("coordination.k8s.io", "leasecandidates"): {"BinaryVersion": "=", "EmulationVersion": "="},
})
_COLUMN_DOCS[("apps", "deployments")]["Ready"] = _READY_PODS
_COLUMN_DOCS[("apps", "controllerrevisions")]["Controller"] = "=Controller of the object"
_COLUMN_DOCS[("rbac.authorization.k8s.io", "rolebindings")].update(_subjects_docs("roleBinding"))
_COLUMN_DOCS[("rbac.authorization.k8s.io", "clusterrolebindings")].update(_subjects_docs("clusterRoleBinding"))
for _kind, _short in (("persistentvolumes", "pv"), ("persistentvolumeclaims", "pvc")):
    _COLUMN_DOCS[("", _kind)].update({"StorageClass": f"=StorageClass of the {_short}",
                                      "VolumeAttributesClass": f"=VolumeAttributesClass of the {_short}"})
_COLUMN_DOCS.update({
    ("storage.k8s.io", "csidrivers"): {
        column: f"storage.v1.CSIDriverSpec.{field}" for column, field in (
            ("AttachRequired", "attachRequired"), ("PodInfoOnMount", "podInfoOnMount"),
            ("StorageCapacity", "storageCapacity"), ("TokenRequests", "tokenRequests"),
            ("RequiresRepublish", "requiresRepublish"), ("Modes", "volumeLifecycleModes"))},
    ("storage.k8s.io", "csistoragecapacities"): {"StorageClassName": "storage.v1.CSIStorageCapacity.storageClassName",
                                                 "Capacity": "storage.v1.CSIStorageCapacity.capacity"},
    ("storage.k8s.io", "volumeattributesclasses"): {"DriverName": "storage.v1.VolumeAttributesClass.driverName"},
    ("networking.k8s.io", "servicecidrs"): {"CIDRs": "networking.v1.ServiceCIDRSpec.cidrs"},
    ("networking.k8s.io", "ipaddresses"): {"ParentRef": "networking.v1.IPAddressSpec.parentRef"},
    ("flowcontrol.apiserver.k8s.io", "prioritylevelconfigurations"): {
        "Type": "flowcontrol.v1.PriorityLevelConfigurationSpec.type",
        "NominalConcurrencyShares": "flowcontrol.v1.LimitedPriorityLevelConfiguration.nominalConcurrencyShares",
        "Queues": "flowcontrol.v1.QueuingConfiguration.queues",
        "HandSize": "flowcontrol.v1.QueuingConfiguration.handSize",
        "QueueLengthLimit": "flowcontrol.v1.QueuingConfiguration.queueLengthLimit"},
    ("resource.k8s.io", "resourceslices"): {"Node": "resource.v1.ResourceSliceSpec.nodeName",
                                            "Driver": "resource.v1.ResourceSliceSpec.driver",
                                            "Pool": "resource.v1.ResourcePool.name"},
    ("apiregistration.k8s.io", "apiservices"): {
        "Service": "=The reference to the service that hosts this API endpoint.",
        "Available": "=Whether this service is available."},
})
_COLUMN_DOCS[("flowcontrol.apiserver.k8s.io", "flowschemas")].update({
    "PriorityLevel": "flowcontrol.v1.PriorityLevelConfigurationReference.name",
    "MatchingPrecedence": "flowcontrol.v1.FlowSchemaSpec.matchingPrecedence",
    "DistinguisherMethod": "flowcontrol.v1.FlowSchemaSpec.distinguisherMethod"})
_COLUMN_DOCS[("events.k8s.io", "events")] = _COLUMN_DOCS[("", "events")]
_COLUMN_DOCS[("extensions", "ingresses")] = _COLUMN_DOCS[("networking.k8s.io", "ingresses")]
_LITERAL_DOCS = {
    "Containers": "Names of each container in the template.",
    "Images": "Images referenced by each container in the template.",
}


@functools.cache
def _descriptions() -> dict[str, Any]:
    from importlib import resources

    data = resources.files("kwok.api").joinpath("data/descriptions.json").read_bytes()
    messages: dict[str, Any] = orjson.loads(data)["messages"]
    return messages


def swagger_doc(reference: str) -> str:
    """apimachinery's fmtRawDoc of a field's doc comment: lines joined, paragraphs kept."""
    message, _, name = reference.rpartition(".")
    full = message if message.startswith("k8s.io.") else f"k8s.io.api.{message}"
    raw = (_descriptions().get(full) or ["", {}])[1].get(name, "")
    text = ""
    # a Go doc comment ends with a newline, which closes the last paragraph
    for line in (raw.split("---")[0] + "\n").split("\n"):
        line = line.rstrip(" ")
        if not line:
            text = text[:-1] + "\n\n"
        elif line.lstrip(" ").startswith(("TODO", "+")):
            continue
        elif line.startswith((" ", "\t")):
            text = text[:-1] + f"\n{line}\n"
        else:
            text += line + " "
    return text.rstrip("\n")


@functools.cache
def _documented_columns(group: str, resource: str) -> tuple[dict[str, Any], ...]:
    docs = _COLUMN_DOCS.get((group, resource), {})
    columns = []
    for column in _PRINTERS[(group, resource)][0]:
        reference = docs.get(column["name"])
        if reference is None:
            text = _LITERAL_DOCS.get(column["name"])
        else:
            text = reference[1:] if reference.startswith("=") else swagger_doc(reference)
        columns.append({**column, "description": text} if text is not None else column)
    return tuple(columns)


def _printer(resource: str, group: str, printer_columns: list[dict[str, Any]] | None
             ) -> tuple[list[dict[str, Any]], Row]:
    if printer_columns is not None:
        return custom_resource_columns(printer_columns), _custom_resource_row(printer_columns)
    found = _PRINTERS.get((group, resource))
    if found is None:
        return [dict(c) for c in _DEFAULT_COLUMNS], _fields()
    return [dict(c) for c in _documented_columns(group, resource)], found[1]


def column_definitions(resource: str, group: str,
                       printer_columns: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    return _printer(resource, group, printer_columns)[0]


def _row_object(obj: Obj, include_object: str) -> dict[str, Any] | None:
    if include_object in ("Metadata", ""):
        return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": _meta(obj)}
    if include_object == "Object":
        return dict(obj)
    return None


def _check_include_object(include_object: str) -> None:
    if include_object not in ("Metadata", "Object", "None", ""):
        raise errors.bad_request(f'unrecognized includeObject value: "{include_object}"')


def rows(resource: str, group: str, objects: Iterable[Obj], now: datetime, include_object: str = "Metadata",
         printer_columns: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    _check_include_object(include_object)
    row_cells = _printer(resource, group, printer_columns)[1]
    if printer_columns is None and (group, resource) == ("flowcontrol.apiserver.k8s.io", "flowschemas"):
        # printFlowSchemaList shows them in matching order: precedence, then name
        objects = sorted(objects, key=lambda o: (_int(_get(o, "spec", "matchingPrecedence")), _meta(o).get("name", "")))
    pods = printer_columns is None and (group, resource) == ("", "pods")
    result = []
    for obj in objects:
        row: dict[str, Any] = {"cells": row_cells(obj, now)}
        conditions = _pod_conditions(obj) if pods else None
        if conditions:
            row["conditions"] = conditions
        partial = _row_object(obj, include_object)
        if partial is not None:
            row["object"] = partial
        result.append(row)
    return result


def table(resource: str, group: str, objects: Iterable[Obj], now: datetime, include_object: str = "Metadata",
          list_meta: Mapping[str, Any] | None = None,
          printer_columns: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": dict(list_meta or {}),
        "columnDefinitions": column_definitions(resource, group, printer_columns),
        "rows": rows(resource, group, objects, now, include_object, printer_columns),
    }
