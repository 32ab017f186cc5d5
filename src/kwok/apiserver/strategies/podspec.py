"""Validation of a PodSpec, shared by Pods and every pod template (ValidatePodSpec, a good subset)."""

from __future__ import annotations

from typing import Any

from kwok.api import podresources
from kwok.api.errors import go_quote
from kwok.api.quantity import Quantity, QuantityError
from kwok.apiserver.registry import Cause, Obj
from kwok.apiserver.strategies.fielderrors import (
    duplicate,
    invalid,
    non_negative,
    not_supported,
    positive,
    required,
)
from kwok.apiserver.strategies.objectmeta import dns1123_label, dns1123_subdomain, port_name, validate_labels

RESTART_POLICIES = ["Always", "OnFailure", "Never"]
DNS_POLICIES = ["ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"]
PULL_POLICIES = ["Always", "IfNotPresent", "Never"]
PROTOCOLS = ["SCTP", "TCP", "UDP"]
TOLERATION_OPERATORS = ["Equal", "Exists"]
TAINT_EFFECTS = ["NoExecute", "NoSchedule", "PreferNoSchedule"]


def validate_pod_spec(spec: Any, path: str) -> list[Cause]:
    if not isinstance(spec, dict):
        return [required(path)]
    causes: list[Cause] = []
    containers = spec.get("containers") or []
    if not containers:
        causes.append(required(f"{path}.containers"))
    names: set[str] = set()
    volumes = {v.get("name") for v in spec.get("volumes") or [] if isinstance(v, dict)}
    for key in ("initContainers", "containers"):
        for i, c in enumerate(spec.get(key) or []):
            causes += _validate_container(c, f"{path}.{key}[{i}]", names)
            if isinstance(c, dict):
                causes += _validate_mounts(c.get("volumeMounts") or [], f"{path}.{key}[{i}].volumeMounts", volumes)
    if isinstance(spec.get("resources"), dict):     # pod-level resources (PodLevelResources)
        causes += _validate_pod_resources(spec, f"{path}.resources")
    causes += _enum(spec, "restartPolicy", RESTART_POLICIES, path)
    causes += _enum(spec, "dnsPolicy", DNS_POLICIES, path)
    causes += non_negative(f"{path}.terminationGracePeriodSeconds", spec.get("terminationGracePeriodSeconds"))
    causes += positive(f"{path}.activeDeadlineSeconds", spec.get("activeDeadlineSeconds"))
    causes += validate_labels(spec.get("nodeSelector"), f"{path}.nodeSelector")
    causes += _validate_volumes(spec.get("volumes") or [], f"{path}.volumes")
    for i, t in enumerate(spec.get("tolerations") or []):
        causes += _validate_toleration(t, f"{path}.tolerations[{i}]")
    if spec.get("nodeName"):
        causes += [invalid(f"{path}.nodeName", spec["nodeName"], m) for m in dns1123_subdomain(spec["nodeName"])]
    return causes


def _enum(obj: Obj, key: str, allowed: list[str], path: str) -> list[Cause]:
    value = obj.get(key)
    if value is None:
        return []
    if value == "":
        return [required(f"{path}.{key}")]
    return [] if value in allowed else [not_supported(f"{path}.{key}", value, allowed)]


def _validate_container(c: Any, path: str, names: set[str]) -> list[Cause]:
    if not isinstance(c, dict):
        return [invalid(path, c, "must be an object")]
    causes: list[Cause] = []
    name = c.get("name") or ""
    if not name:
        causes.append(required(f"{path}.name"))
    else:
        causes += [invalid(f"{path}.name", name, m) for m in dns1123_label(name)]
        if name in names:
            causes.append(duplicate(f"{path}.name", name))
        names.add(name)
    if not c.get("image"):
        causes.append(required(f"{path}.image"))
    causes += _enum(c, "imagePullPolicy", PULL_POLICIES, path)
    causes += _enum(c, "terminationMessagePolicy", ["File", "FallbackToLogsOnError"], path)
    causes += _validate_ports(c.get("ports") or [], f"{path}.ports")
    causes += _validate_resources(c.get("resources") or {}, f"{path}.resources")
    return causes


def _validate_resources(resources: Obj, path: str) -> list[Cause]:
    """Quantities parse, are not negative, and requests stay within limits."""
    causes: list[Cause] = []
    parsed: dict[str, dict[str, Quantity]] = {}
    for key in ("limits", "requests"):
        for name, value in (resources.get(key) or {}).items():
            try:
                q = Quantity(str(value))
            except QuantityError as err:
                causes.append(invalid(f"{path}.{key}[{name}]", value, str(err)))
                continue
            if q.sign < 0:
                causes.append(invalid(f"{path}.{key}[{name}]", str(value), "must be greater than or equal to 0"))
            parsed.setdefault(key, {})[name] = q
    limits = parsed.get("limits", {})
    for name, request in parsed.get("requests", {}).items():
        if name in limits and request > limits[name]:
            causes.append(invalid(f"{path}.requests", str(request),
                                  f"must be less than or equal to {name} limit of {limits[name]}"))
    return causes


_STANDARD_UNQUALIFIED = frozenset({"cpu", "memory", "ephemeral-storage", "storage", "pods", "services",
                                   "replicationcontrollers", "resourcequotas", "secrets", "configmaps",
                                   "persistentvolumeclaims", "requests.cpu", "requests.memory",
                                   "requests.storage", "requests.ephemeral-storage", "limits.cpu", "limits.memory",
                                   "limits.ephemeral-storage"})


def _validate_pod_resources(spec: Obj, path: str) -> list[Cause]:
    """Pod-level resources (validatePodResources): only cpu, memory and hugepages; quantities as for
    containers; then consistency with the containers (validatePodResourceConsistency): pod-level
    requests cover the containers' effective requests, a pod-level hugepages limit their limits,
    and no container limit is over the pod's."""
    resources = spec["resources"]
    causes: list[Cause] = []
    for key in ("limits", "requests"):
        for name in sorted(resources.get(key) or {}):
            if podresources.is_supported_pod_level_resource(name):
                continue
            field = f"{path}.{key}[{name}]"
            if "/" not in name and name not in _STANDARD_UNQUALIFIED:
                causes.append(invalid(field, name, "must be a standard resource type or fully qualified"))
            else:
                causes.append(not_supported(field, name, ["cpu", "hugepages-", "memory"]))
    causes += _validate_resources(resources, path)
    if causes:
        return causes
    units = podresources.QUANTITY
    pod = {"spec": spec}
    requests = {k: units.parse(v) for k, v in (resources.get("requests") or {}).items()}
    limits = {k: units.parse(v) for k, v in (resources.get("limits") or {}).items()}
    try:
        total_requests = podresources.aggregate_container_requests(pod, units)
        total_limits = podresources.aggregate_container_limits(pod, units)
    except (QuantityError, TypeError, AttributeError):
        return causes      # a container's own quantity is wrong: its check reports it
    for name, total in sorted(total_requests.items()):
        if name in requests and total > requests[name]:
            causes.append(invalid(f"{path}.requests[{name}]", str(requests[name]),
                                  f"must be greater than or equal to aggregate container requests of {total}"))
    for name, total in sorted(total_limits.items()):
        if name.startswith("hugepages-") and name in limits and total > limits[name]:
            causes.append(invalid(f"{path}.limits[{name}]", str(limits[name]),
                                  f"must be greater than or equal to aggregate container limits of {total}"))
    for i, container in enumerate(spec.get("containers") or []):
        own = ((container.get("resources") or {}).get("limits") or {}) if isinstance(container, dict) else {}
        for name, value in sorted(own.items()):
            if name in limits:
                amount = units.parse(value)
                if amount > limits[name]:
                    # the real path is built from the pod-level resources path, index and name
                    causes.append(invalid(f"{path}.containers[{i}][{name}].limits", str(amount),
                                          f"must be less than or equal to pod limits of {limits[name]}"))
    return causes


def _validate_ports(ports: list[Any], path: str) -> list[Cause]:
    causes: list[Cause] = []
    seen: set[str] = set()
    for i, p in enumerate(ports):
        p_path = f"{path}[{i}]"
        port = p.get("containerPort")
        if port is None:
            causes.append(required(f"{p_path}.containerPort"))
        elif not isinstance(port, int) or not 1 <= port <= 65535:
            causes.append(invalid(f"{p_path}.containerPort", port, "must be between 1 and 65535, inclusive"))
        causes += _enum(p, "protocol", PROTOCOLS, p_path)
        name = p.get("name")
        if name:
            causes += [invalid(f"{p_path}.name", name, m) for m in port_name(name)]
            if name in seen:
                causes.append(duplicate(f"{p_path}.name", name))
            seen.add(name)
    return causes


def _validate_mounts(mounts: list[Any], path: str, volumes: set[Any]) -> list[Cause]:
    """Each mount names a volume of the pod, at a path no other mount of the container uses."""
    causes: list[Cause] = []
    paths: set[str] = set()
    for i, m in enumerate(mounts):
        name, mount_path = m.get("name", ""), m.get("mountPath", "")
        if not name:
            causes.append(required(f"{path}[{i}].name"))
        elif name not in volumes:
            causes.append(Cause("FieldValueNotFound", f"Not found: {go_quote(name)}", f"{path}[{i}].name"))
        if not mount_path:
            causes.append(required(f"{path}[{i}].mountPath"))
        elif mount_path in paths:
            causes.append(invalid(f"{path}[{i}].mountPath", mount_path, "must be unique"))
        paths.add(mount_path)
    return causes


def _validate_volumes(volumes: list[Any], path: str) -> list[Cause]:
    causes: list[Cause] = []
    names: set[str] = set()
    for i, v in enumerate(volumes):
        name = v.get("name") or ""
        if not name:
            causes.append(required(f"{path}[{i}].name"))
            continue
        causes += [invalid(f"{path}[{i}].name", name, m) for m in dns1123_label(name)]
        if name in names:
            causes.append(duplicate(f"{path}[{i}].name", name))
        names.add(name)
    return causes


def _validate_toleration(t: Obj, path: str) -> list[Cause]:
    causes = _enum(t, "operator", TOLERATION_OPERATORS, path)
    if t.get("effect"):
        causes += _enum(t, "effect", TAINT_EFFECTS, path)
    if t.get("operator") == "Exists" and t.get("value"):
        causes.append(invalid(f"{path}.operator", t.get("value"),
                              "value must be empty when `operator` is 'Exists'"))
    if t.get("tolerationSeconds") is not None and t.get("effect") != "NoExecute":
        causes.append(invalid(f"{path}.effect", t.get("effect", ""),
                              "effect must be 'NoExecute' when `tolerationSeconds` is set"))
    return causes


def validate_template(template: Any, path: str, restart_policies: list[str] | None = None) -> list[Cause]:
    """A pod template: its labels and spec, and the restart policies the owning controller allows."""
    if not isinstance(template, dict):
        return [required(path)]
    meta = template.get("metadata") or {}
    causes = validate_labels(meta.get("labels"), f"{path}.metadata.labels")
    spec = template.get("spec")
    causes += validate_pod_spec(spec, f"{path}.spec")
    policy = (spec or {}).get("restartPolicy")
    if restart_policies and policy not in restart_policies and policy in RESTART_POLICIES:
        causes.append(not_supported(f"{path}.spec.restartPolicy", policy, restart_policies))
    return causes
