"""Objects a real kube-apiserver creates at start-up when they are missing.

The system namespaces (its SystemNamespaces controller), the two system PriorityClasses (the
scheduling post-start hook), and the `default/kubernetes` Service with its Endpoints and
EndpointSlice pointing at this server (the "kubernetes service" controller and endpoint reconciler).
They go through the normal create flow, so strategies default them.
"""

from __future__ import annotations

from typing import Any

from kwok.api import errors
from kwok.apiserver import servicenetwork
from kwok.apiserver.catalog import Catalog
from kwok.apiserver.flow import Flow, now_utc, rfc3339
from kwok.apiserver.registry import RequestContext

Obj = dict[str, Any]

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
SYSTEM_PRIORITY_CLASSES = (("system-node-critical", 2000001000), ("system-cluster-critical", 2000000000))


def _objects() -> list[tuple[str, str, str, Obj]]:
    out: list[tuple[str, str, str, Obj]] = [
        ("", "v1", "namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
        for name in SYSTEM_NAMESPACES]
    for name, value in SYSTEM_PRIORITY_CLASSES:
        out.append(("scheduling.k8s.io", "v1", "priorityclasses", {
            "apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": name},
            "value": value, "description": "Used for system critical pods that must not be moved from their "
                                           "current node." if name == "system-node-critical" else
                                           "Used for system critical pods that must run in the cluster, but can "
                                           "be moved to another node if necessary."}))
    return out


def system_context() -> RequestContext:
    """Who the server's own start-up writes are from."""
    return RequestContext(user="system:apiserver", groups=("system:masters",), now=rfc3339(now_utc()))


async def ensure_system_objects(flow: Flow, catalog: Catalog) -> int:
    """Create what is missing; returns how many objects were created."""
    created = 0
    for group, version, plural, obj in _objects():
        served = catalog.get(group, version, plural)
        if served is None or flow.store.get(served.key, "", obj["metadata"]["name"]) is not None:
            continue
        try:
            await flow.create(served, obj, system_context())
            created += 1
        except errors.ApiError:
            continue
    return created


KUBERNETES_SERVICE = "kubernetes"


def kubernetes_service_objects(address: str, port: int) -> list[tuple[str, str, str, Obj]]:
    """The Service (the first address of the service range, port 443 named https), and the
    Endpoints and EndpointSlice that send it to `address:port`."""
    cluster_ip = servicenetwork.CURRENT.kubernetes_ip
    labels = {"component": "apiserver", "provider": "kubernetes"}
    family = "IPv6" if ":" in address else "IPv4"
    service = {"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": KUBERNETES_SERVICE, "namespace": "default", "labels": labels},
               "spec": {"type": "ClusterIP", "clusterIP": cluster_ip, "sessionAffinity": "None",
                        "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": port}]}}
    endpoints = {"apiVersion": "v1", "kind": "Endpoints",
                 "metadata": {"name": KUBERNETES_SERVICE, "namespace": "default",
                              "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
                 "subsets": [{"addresses": [{"ip": address}],
                              "ports": [{"name": "https", "port": port, "protocol": "TCP"}]}]}
    endpoint_slice = {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                      "metadata": {"name": KUBERNETES_SERVICE, "namespace": "default",
                                   "labels": {"kubernetes.io/service-name": KUBERNETES_SERVICE}},
                      "addressType": family,
                      "endpoints": [{"addresses": [address], "conditions": {"ready": True}}],
                      "ports": [{"name": "https", "port": port, "protocol": "TCP"}]}
    return [("", "v1", "services", service), ("", "v1", "endpoints", endpoints),
            ("discovery.k8s.io", "v1", "endpointslices", endpoint_slice)]


async def ensure_kubernetes_service(flow: Flow, catalog: Catalog, address: str, port: int) -> None:
    """Create the `kubernetes` Service if missing, and point its Endpoints and EndpointSlice at
    `address:port` (updated when the server comes back on another port, as the reconciler does)."""
    for group, version, plural, obj in kubernetes_service_objects(address, port):
        served = catalog.get(group, version, plural)
        if served is None:
            continue
        try:
            current = flow.get(served, "default", KUBERNETES_SERVICE)
        except errors.ApiError:
            current = None
        try:
            if current is None:
                await flow.create(served, obj, system_context())
            elif plural != "services":
                wanted = {**current, **{k: v for k, v in obj.items() if k != "metadata"}}
                await flow.update(served, "default", KUBERNETES_SERVICE, wanted, system_context())
        except errors.ApiError:
            continue      # e.g. a user's object of that name in the way: leave it
