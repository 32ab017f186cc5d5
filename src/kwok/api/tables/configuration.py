"""Printers of configuration, policy, storage, networking and RBAC kinds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kwok.api.duration import human_duration
from kwok.api.tables.cells import (
    Cells,
    Obj,
    Row,
    age,
    as_int,
    created_at,
    format_label_selector,
    get_path,
    meta_of,
)
from kwok.api.tables.core import load_balancer
from kwok.api.tables.workloads import quantity_text

# --- config, policy, storage, RBAC, misc ----------------------------------------------------------


def _int_or_string(value: Any) -> str:
    return "N/A" if value is None else str(value)


def pdb_row(obj: Obj, now: datetime) -> Cells:
    spec = obj.get("spec") or {}
    return [meta_of(obj).get("name", ""), _int_or_string(spec.get("minAvailable")),
            _int_or_string(spec.get("maxUnavailable")), as_int(get_path(obj, "status", "disruptionsAllowed")), age(obj, now)]


def resource_quota_row(obj: Obj, now: datetime) -> Cells:
    hard = get_path(obj, "status", "hard") or {}
    used = get_path(obj, "status", "used") or {}
    requests: list[str] = []
    limits: list[str] = []
    for resource in sorted(hard):
        text = f"{resource}: {quantity_text(used.get(resource))}/{quantity_text(hard[resource])}"
        pieces = resource.split(".")
        (limits if len(pieces) > 1 and pieces[0] == "limits" else requests).append(text)
    return [meta_of(obj).get("name", ""), ", ".join(requests), ", ".join(limits), age(obj, now)]


_ACCESS_MODES = (("ReadWriteOnce", "RWO"), ("ReadOnlyMany", "ROX"), ("ReadWriteMany", "RWX"),
                 ("ReadWriteOncePod", "RWOP"))


def access_modes(modes: list[str] | None) -> str:
    present = set(modes or ())
    return ",".join(short for mode, short in _ACCESS_MODES if mode in present)


def _deleting_phase(obj: Obj) -> str:
    return "Terminating" if meta_of(obj).get("deletionTimestamp") else str(get_path(obj, "status", "phase") or "")


def pv_row(obj: Obj, now: datetime) -> Cells:
    spec = obj.get("spec") or {}
    claim = spec.get("claimRef")
    storage_class = (meta_of(obj).get("annotations") or {}).get("volume.beta.kubernetes.io/storage-class")
    return [meta_of(obj).get("name", ""), quantity_text((spec.get("capacity") or {}).get("storage")),
            access_modes(spec.get("accessModes")), spec.get("persistentVolumeReclaimPolicy", ""),
            _deleting_phase(obj), f"{claim.get('namespace', '')}/{claim.get('name', '')}" if claim else "",
            storage_class if storage_class is not None else spec.get("storageClassName", ""),
            spec.get("volumeAttributesClassName") or "<unset>", get_path(obj, "status", "reason") or "",
            age(obj, now), spec.get("volumeMode") or "<unset>"]


def pvc_row(obj: Obj, now: datetime) -> Cells:
    spec = obj.get("spec") or {}
    bound = bool(spec.get("volumeName"))
    capacity = quantity_text((get_path(obj, "status", "capacity") or {}).get("storage")) if bound else ""
    modes = access_modes(get_path(obj, "status", "accessModes")) if bound else ""
    storage_class = (meta_of(obj).get("annotations") or {}).get("volume.beta.kubernetes.io/storage-class")
    return [meta_of(obj).get("name", ""), _deleting_phase(obj), spec.get("volumeName", ""), capacity, modes,
            storage_class if storage_class is not None else spec.get("storageClassName") or "",
            spec.get("volumeAttributesClassName") or "<unset>", age(obj, now), spec.get("volumeMode") or "<unset>"]


_DEFAULT_CLASS = ("storageclass.kubernetes.io/is-default-class", "storageclass.beta.kubernetes.io/is-default-class")


def storage_class_row(obj: Obj, now: datetime) -> Cells:
    annotations = meta_of(obj).get("annotations") or {}
    name = meta_of(obj).get("name", "")
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


def ingress_row(obj: Obj, now: datetime) -> Cells:
    spec = obj.get("spec") or {}
    return [meta_of(obj).get("name", ""), spec.get("ingressClassName") or "<none>",
            _ingress_hosts(spec.get("rules") or []), load_balancer(obj.get("status")),
            "80, 443" if spec.get("tls") else "80", age(obj, now)]


def ingress_class_row(obj: Obj, now: datetime) -> Cells:
    params = get_path(obj, "spec", "parameters")
    text = "<none>"
    if params:
        group = f".{params['apiGroup']}" if params.get("apiGroup") is not None else ""
        text = f"{params.get('kind', '')}{group}/{params.get('name', '')}"
    return [meta_of(obj).get("name", ""), get_path(obj, "spec", "controller") or "", text, age(obj, now)]


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


def binding_row(obj: Obj, now: datetime) -> Cells:
    ref = obj.get("roleRef") or {}
    return [meta_of(obj).get("name", ""), f"{ref.get('kind', '')}/{ref.get('name', '')}", age(obj, now),
            *_subjects(obj.get("subjects"))]


def _csr_condition(obj: Obj) -> str:
    types = {c.get("type") for c in get_path(obj, "status", "conditions") or []}
    text = "Denied" if "Denied" in types else "Approved" if "Approved" in types else "Pending"
    if "Failed" in types:
        text += ",Failed"
    if get_path(obj, "status", "certificate"):
        text += ",Issued"
    return text


def csr_row(obj: Obj, now: datetime) -> Cells:
    spec = obj.get("spec") or {}
    seconds = spec.get("expirationSeconds")
    return [meta_of(obj).get("name", ""), age(obj, now), spec.get("signerName") or "<none>", spec.get("username", ""),
            human_duration(seconds) if seconds is not None else "<none>", _csr_condition(obj)]


def simple_row(*fields: tuple[str, ...], count: bool = False) -> Row:
    """A row of Name, each field (a path; with count=True its length), then Age."""

    def row(obj: Obj, now: datetime) -> Cells:
        values = [get_path(obj, *path) for path in fields]
        if count:
            values = [len(v or ()) for v in values]
        return [meta_of(obj).get("name", ""), *("" if v is None else v for v in values), age(obj, now)]

    return row


def config_map_row(obj: Obj, now: datetime) -> Cells:
    return [meta_of(obj).get("name", ""), len(obj.get("data") or {}) + len(obj.get("binaryData") or {}), age(obj, now)]


def secret_row(obj: Obj, now: datetime) -> Cells:
    return [meta_of(obj).get("name", ""), obj.get("type", ""), len(obj.get("data") or {}), age(obj, now)]


def priority_class_row(obj: Obj, now: datetime) -> Cells:
    return [meta_of(obj).get("name", ""), as_int(obj.get("value")), bool(obj.get("globalDefault")), age(obj, now),
            obj.get("preemptionPolicy") or ""]


def network_policy_row(obj: Obj, now: datetime) -> Cells:
    return [meta_of(obj).get("name", ""), format_label_selector(get_path(obj, "spec", "podSelector") or {}), age(obj, now)]


def created_at_row(obj: Obj, now: datetime) -> Cells:
    return [meta_of(obj).get("name", ""), created_at(obj, now)]

