"""What a Service's endpoints are (pure): the pods its selector picks that have an IP, with their
readiness, and the Service ports resolved against each pod (a named targetPort is looked up in
the pod's container ports). Pods whose ports resolve differently go to different subsets/slices.
"""

from __future__ import annotations

from typing import Any

from kwok.api.selectors import SelectorError, label_selector_from_set
from kwok.controlplane.controllers.pods import is_ready, is_terminal

MAX_ENDPOINTS_PER_SLICE = 100
MAX_ENDPOINTS_ADDRESSES = 1000
SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
MANAGED_BY = "endpointslice-controller.k8s.io"


def selects(service: dict[str, Any], pod: dict[str, Any]) -> bool:
    selector = (service.get("spec") or {}).get("selector")
    if not selector:
        return False
    try:
        return label_selector_from_set(selector).matches(pod["metadata"].get("labels") or {})
    except SelectorError:
        return False


def _resolve_port(port: dict[str, Any], pod: dict[str, Any]) -> int | None:
    target = port.get("targetPort", port.get("port"))
    if isinstance(target, int) or (isinstance(target, str) and target.isdigit()):
        return int(target)
    for container in (pod.get("spec") or {}).get("containers") or ():
        for cport in container.get("ports") or ():
            if cport.get("name") == target and cport.get("protocol", "TCP") == port.get("protocol", "TCP"):
                return int(cport["containerPort"])
    return None


def pod_ports(service: dict[str, Any], pod: dict[str, Any]) -> tuple[tuple[str, int, str, str | None], ...]:
    out = []
    for port in (service.get("spec") or {}).get("ports") or ():
        number = _resolve_port(port, pod)
        if number is not None:
            out.append((port.get("name", ""), number, port.get("protocol", "TCP"), port.get("appProtocol")))
    return tuple(out)


def endpoint_pods(service: dict[str, Any], pods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Selected pods with an IP that have not finished, sorted by name for stable output."""
    chosen = [p for p in pods if selects(service, p) and (p.get("status") or {}).get("podIP") and not is_terminal(p)]
    return sorted(chosen, key=lambda p: p["metadata"]["name"])


def _target(pod: dict[str, Any]) -> dict[str, Any]:
    meta = pod["metadata"]
    return {"kind": "Pod", "namespace": meta.get("namespace"), "name": meta["name"], "uid": meta.get("uid")}


def endpoints_subsets(service: dict[str, Any], pods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """v1 Endpoints subsets, one per distinct resolved port set."""
    publish = bool((service.get("spec") or {}).get("publishNotReadyAddresses"))
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for pod in endpoint_pods(service, pods):
        if pod["metadata"].get("deletionTimestamp") and not publish:
            continue
        ports = pod_ports(service, pod)
        subset = groups.setdefault(ports, {"ports": [_port(p) for p in ports]})
        address = {"ip": pod["status"]["podIP"], "targetRef": _target(pod)}
        if (pod.get("spec") or {}).get("nodeName"):
            address["nodeName"] = pod["spec"]["nodeName"]
        key = "addresses" if is_ready(pod) or publish else "notReadyAddresses"
        subset.setdefault(key, []).append(address)
    out = []
    for subset in groups.values():
        if not subset["ports"]:
            del subset["ports"]
        out.append(subset)
    return out


def _port(p: tuple[str, int, str, str | None]) -> dict[str, Any]:
    port: dict[str, Any] = {"name": p[0], "port": p[1], "protocol": p[2]}
    if p[3]:
        port["appProtocol"] = p[3]
    if not p[0]:
        del port["name"]
    return port


def slice_groups(service: dict[str, Any], pods: list[dict[str, Any]]) -> list[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    """(ports, endpoints) of each EndpointSlice the Service needs, at most 100 endpoints each."""
    publish = bool((service.get("spec") or {}).get("publishNotReadyAddresses"))
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for pod in endpoint_pods(service, pods):
        terminating = bool(pod["metadata"].get("deletionTimestamp"))
        ready = is_ready(pod) and not terminating
        endpoint: dict[str, Any] = {"addresses": [pod["status"]["podIP"]],
                                    "conditions": {"ready": ready or publish, "serving": is_ready(pod),
                                                   "terminating": terminating},
                                    "targetRef": _target(pod)}
        if (pod.get("spec") or {}).get("nodeName"):
            endpoint["nodeName"] = pod["spec"]["nodeName"]
        groups.setdefault(pod_ports(service, pod), []).append(endpoint)
    out = []
    for ports, endpoints in groups.items():
        for start in range(0, max(len(endpoints), 1), MAX_ENDPOINTS_PER_SLICE):
            out.append(([_port(p) for p in ports], endpoints[start:start + MAX_ENDPOINTS_PER_SLICE]))
    if not out:
        out.append(([], []))  # the placeholder slice of a Service without endpoints
    return out
