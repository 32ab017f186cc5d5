"""Services (pkg/registry/core/service): defaults, validation and the allocated-values rule.

Cluster IPs and node ports are allocated later in the create (admission/service_allocation.py,
which can see the other Services); here a Service gets its scheme defaults, and an update that omits
an allocated value (a typical `kubectl apply`) keeps the stored one instead of clearing it.
"""

from __future__ import annotations

import ipaddress

from kwok.apiserver import servicenetwork
from kwok.apiserver.registry import Cause, Obj, RequestContext, register
from kwok.apiserver.strategies.base import KindStrategy
from kwok.apiserver.strategies.fielderrors import (
    duplicate,
    immutable,
    invalid,
    not_supported,
    required,
)
from kwok.apiserver.strategies.objectmeta import dns1035_label, dns1123_label, validate_labels

SERVICE_TYPES = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]
PROTOCOLS = ["SCTP", "TCP", "UDP"]


def uses_node_ports(spec: Obj) -> bool:
    return spec.get("type") in ("NodePort", "LoadBalancer")


def default_service_spec(spec: Obj) -> None:
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    for port in spec.get("ports") or []:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")
            if port.get("targetPort") in (None, 0, "") and "port" in port:
                port["targetPort"] = port["port"]
    if spec["type"] == "ExternalName":
        return
    spec.setdefault("internalTrafficPolicy", "Cluster")
    if uses_node_ports(spec):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    if spec["type"] == "LoadBalancer":
        spec.setdefault("allocateLoadBalancerNodePorts", True)
    if spec.get("sessionAffinity") == "ClientIP":
        spec.setdefault("sessionAffinityConfig", {"clientIP": {"timeoutSeconds": 10800}})


def _valid_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _validate_ports(spec: Obj) -> list[Cause]:
    ports = spec.get("ports") or []
    headless = spec.get("clusterIP") == "None"
    if not ports and not headless and spec.get("type") != "ExternalName":
        return [required("spec.ports")]
    causes: list[Cause] = []
    names: set[str] = set()
    keys: set[tuple[int, str]] = set()
    for i, p in enumerate(ports):
        path = f"spec.ports[{i}]"
        name = p.get("name", "")
        if len(ports) > 1 and not name:
            causes.append(required(f"{path}.name"))
        elif name:
            causes += [invalid(f"{path}.name", name, m) for m in dns1123_label(name)]
            if name in names:
                causes.append(duplicate(f"{path}.name", name))
            names.add(name)
        port = p.get("port")
        if not isinstance(port, int) or not 1 <= port <= 65535:
            causes.append(invalid(f"{path}.port", port if port is not None else 0,
                                  "must be between 1 and 65535, inclusive"))
        protocol = p.get("protocol", "TCP")
        if protocol not in PROTOCOLS:
            causes.append(not_supported(f"{path}.protocol", protocol, PROTOCOLS))
        if isinstance(port, int) and (port, protocol) in keys:
            causes.append(duplicate(path, {"port": port, "protocol": protocol}))
        keys.add((port, protocol) if isinstance(port, int) else (0, protocol))
        causes += _validate_node_port(p, path, spec)
    return causes


def _validate_node_port(p: Obj, path: str, spec: Obj) -> list[Cause]:
    node_port = p.get("nodePort")
    if not node_port:
        return []
    if not uses_node_ports(spec):
        return [invalid(f"{path}.nodePort", node_port, "may not be used when `type` is 'ClusterIP'")]
    low, high = servicenetwork.CURRENT.node_ports
    if not low <= node_port <= high:
        return [invalid(f"{path}.nodePort", node_port,
                        f"provided port is not in the valid range. The range of valid ports is {low}-{high}")]
    return []


@register("", "services")
class ServiceStrategy(KindStrategy):
    name_validator = staticmethod(dns1035_label)
    bumps_generation = False

    def default(self, obj: Obj) -> None:
        default_service_spec(obj.setdefault("spec", {}))

    def prepare_create(self, obj: Obj, ctx: RequestContext) -> None:
        obj["status"] = {"loadBalancer": {}}

    def _prepare_for_update(self, new: Obj, old: Obj, ctx: RequestContext) -> None:
        super()._prepare_for_update(new, old, ctx)
        keep_allocated(new.setdefault("spec", {}), old.get("spec") or {})

    def validate_spec(self, obj: Obj) -> list[Cause]:
        spec = obj.get("spec") or {}
        causes: list[Cause] = []
        kind = spec.get("type", "ClusterIP")
        if kind not in SERVICE_TYPES:
            causes.append(not_supported("spec.type", kind, SERVICE_TYPES))
        if kind == "ExternalName" and not spec.get("externalName"):
            causes.append(required("spec.externalName"))
        cluster_ip = spec.get("clusterIP", "")
        if cluster_ip not in ("", "None") and not _valid_ip(cluster_ip):
            causes.append(invalid("spec.clusterIPs[0]", cluster_ip,
                                  "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"))
        if cluster_ip == "None" and kind in ("NodePort", "LoadBalancer"):
            causes.append(invalid("spec.clusterIPs[0]", cluster_ip, f"may not be set to 'None' for {kind} services"))
        if spec.get("sessionAffinity") not in ("None", "ClientIP"):
            causes.append(not_supported("spec.sessionAffinity", spec.get("sessionAffinity"), ["ClientIP", "None"]))
        causes += validate_labels(spec.get("selector"), "spec.selector")
        return causes + _validate_ports(spec)

    def field_values(self, obj: Obj) -> dict[str, str]:
        out = super().field_values(obj)
        spec = obj.get("spec") or {}
        out["spec.clusterIP"] = spec.get("clusterIP", "")
        out["spec.type"] = spec.get("type", "")
        return out

    def validate_spec_update(self, new: Obj, old: Obj) -> list[Cause]:
        ns, os_ = new.get("spec") or {}, old.get("spec") or {}
        changing_type = ns.get("type") != os_.get("type")
        if os_.get("clusterIP") and ns.get("clusterIP") != os_["clusterIP"] and not (
                changing_type and "ExternalName" in (ns.get("type"), os_.get("type"))):
            return [immutable("spec.clusterIPs[0]", ns.get("clusterIP", ""))]
        return []


def keep_allocated(new: Obj, old: Obj) -> None:
    """patchAllocatedValues: an update that leaves out the cluster IP or a node port keeps the old one."""
    if new.get("type") != "ExternalName" and old.get("clusterIP"):
        if not new.get("clusterIP"):
            new["clusterIP"] = old["clusterIP"]
        if not new.get("clusterIPs") and new["clusterIP"] == old["clusterIP"]:
            new["clusterIPs"] = list(old.get("clusterIPs") or [old["clusterIP"]])
        for key in ("ipFamilies", "ipFamilyPolicy"):
            if key not in new and key in old:
                new[key] = old[key]
    if uses_node_ports(new) and uses_node_ports(old):
        by_key = {(p.get("port"), p.get("protocol")): p.get("nodePort") for p in old.get("ports") or []}
        for p in new.get("ports") or []:
            if not p.get("nodePort") and by_key.get((p.get("port"), p.get("protocol"))):
                p["nodePort"] = by_key[(p.get("port"), p.get("protocol"))]
    if old.get("healthCheckNodePort") and not new.get("healthCheckNodePort"):
        if new.get("externalTrafficPolicy") == "Local" and new.get("type") == "LoadBalancer":
            new["healthCheckNodePort"] = old["healthCheckNodePort"]


def kubernetes_service(secure_port: int) -> Obj:
    """The `default/kubernetes` Service a real API server keeps (first IP of the service range)."""
    ip = servicenetwork.CURRENT.kubernetes_ip
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "kubernetes", "namespace": "default",
                         "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {"type": "ClusterIP", "clusterIP": ip, "clusterIPs": [ip],
                     "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": secure_port}],
                     "sessionAffinity": "None"}}
