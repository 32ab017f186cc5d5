"""Printers of the kinds clients rarely list (CSI, admission policies, flow control, DRA, ...)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kwok.api.tables.cells import Cells, Obj, Row, age, as_int, format_label_selector, get_path, meta_of

# --- the less common kinds ------------------------------------------------------------------------


def fields_row(*paths: str, default: Any = "") -> Row:
    """A row of Name, the value at each dotted path (or `default`), then Age."""
    split = [tuple(path.split(".")) for path in paths]

    def row(obj: Obj, now: datetime) -> Cells:
        values = [get_path(obj, *path) for path in split]
        return [meta_of(obj).get("name", ""), *(default if v is None else v for v in values), age(obj, now)]

    return row


def volume_attachment_row(obj: Obj, now: datetime) -> Cells:
    spec = obj.get("spec") or {}
    return [meta_of(obj).get("name", ""), spec.get("attacher", ""), get_path(spec, "source", "persistentVolumeName") or "",
            spec.get("nodeName", ""), bool(get_path(obj, "status", "attached")), age(obj, now)]


def csi_driver_row(obj: Obj, now: datetime) -> Cells:
    spec = obj.get("spec") or {}
    tokens = spec.get("tokenRequests")
    return [meta_of(obj).get("name", ""), spec.get("attachRequired", True) is not False,
            bool(spec.get("podInfoOnMount")), bool(spec.get("storageCapacity")),
            "<unset>" if tokens is None else ",".join(t.get("audience", "") for t in tokens),
            bool(spec.get("requiresRepublish")), ",".join(spec.get("volumeLifecycleModes") or []) or "<none>",
            age(obj, now)]


def _param_kind(obj: Obj) -> str:
    kind = get_path(obj, "spec", "paramKind")
    return f"{kind.get('apiVersion', '')}/{kind.get('kind', '')}" if kind else "<unset>"


def admission_policy_row(rules: str) -> Row:
    def row(obj: Obj, now: datetime) -> Cells:
        return [meta_of(obj).get("name", ""), len(get_path(obj, "spec", rules) or []), _param_kind(obj), age(obj, now)]

    return row


def policy_binding_row(obj: Obj, now: datetime) -> Cells:
    ref = get_path(obj, "spec", "paramRef")
    text = "<unset>"
    if ref and ref.get("name"):
        text = f"{ref.get('namespace') or '*'}/{ref['name']}"
    elif ref and ref.get("selector") is not None:
        text = format_label_selector(ref["selector"])
    return [meta_of(obj).get("name", ""), get_path(obj, "spec", "policyName") or "", text, age(obj, now)]


def flow_schema_row(obj: Obj, now: datetime) -> Cells:
    spec = obj.get("spec") or {}
    dangling = next((c.get("status", "") for c in get_path(obj, "status", "conditions") or []
                     if c.get("type") == "Dangling"), "?")
    return [meta_of(obj).get("name", ""), get_path(spec, "priorityLevelConfiguration", "name") or "",
            as_int(spec.get("matchingPrecedence")), get_path(spec, "distinguisherMethod", "type") or "<none>",
            age(obj, now), dangling]


def priority_level_row(obj: Obj, now: datetime) -> Cells:
    limited = get_path(obj, "spec", "limited")
    queuing = get_path(limited, "limitResponse", "queuing") if limited else None
    shares = limited.get("nominalConcurrencyShares", 0) if limited else "<none>"
    queue = [queuing.get(k, 0) for k in ("queues", "handSize", "queueLengthLimit")] if queuing else ["<none>"] * 3
    return [meta_of(obj).get("name", ""), get_path(obj, "spec", "type") or "", shares, *queue, age(obj, now)]


def resource_claim_state(obj: Obj) -> str:
    deleting = bool(meta_of(obj).get("deletionTimestamp"))
    states = ["deleted"] if deleting else []
    if get_path(obj, "status", "allocation") is None:
        return ",".join(states if deleting else ["pending"])
    states.append("allocated")
    if get_path(obj, "status", "reservedFor"):
        states.append("reserved")
    elif deleting:
        states.append("deallocating")
    return ",".join(states)


def component_status_row(obj: Obj, _now: datetime) -> Cells:
    for condition in obj.get("conditions") or []:
        if condition.get("type") == "Healthy":
            health = "Healthy" if condition.get("status") == "True" else "Unhealthy"
            return [meta_of(obj).get("name", ""), health, condition.get("message", ""), condition.get("error", "")]
    return [meta_of(obj).get("name", ""), "Unknown", "", ""]


def ip_address_row(obj: Obj, now: datetime) -> Cells:
    ref = get_path(obj, "spec", "parentRef")
    text = "<none>"
    if ref:
        resource = f"{ref.get('resource', '')}.{ref['group']}" if ref.get("group") else ref.get("resource", "")
        namespace = f"/{ref['namespace']}" if ref.get("namespace") else ""
        text = f"{resource.lower()}{namespace}/{ref.get('name', '')}"
    return [meta_of(obj).get("name", ""), text, age(obj, now)]  # upstream prints Age without a column


def api_service_row(obj: Obj, now: datetime) -> Cells:
    service = get_path(obj, "spec", "service")
    where = f"{service.get('namespace', '')}/{service.get('name', '')}" if service else "Local"
    available = "Unknown"
    for condition in get_path(obj, "status", "conditions") or []:
        if condition.get("type") == "Available":
            status, reason = condition.get("status", ""), condition.get("reason")
            available = f"{status} ({reason})" if status != "True" and reason else status
    return [meta_of(obj).get("name", ""), where, available, age(obj, now)]

