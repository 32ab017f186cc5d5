"""What a Service's endpoints are (pure): the pods its selector picks that have an IP, with their
readiness, and the Service ports resolved against each pod (a named targetPort is looked up in
the pod's container ports). Pods whose ports resolve differently go to different subsets/slices.
"""

from __future__ import annotations

import math
from typing import Any

from kwok.api.selectors import SelectorError, label_selector_from_set
from kwok.controlplane.controllers.pods import is_ready, is_terminal

MAX_ENDPOINTS_PER_SLICE = 100
MAX_ENDPOINTS_ADDRESSES = 1000
SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
MANAGED_BY = "endpointslice-controller.k8s.io"
HEADLESS_LABEL = "service.kubernetes.io/headless"
OVER_CAPACITY_ANNOTATION = "endpoints.kubernetes.io/over-capacity"


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


def should_set_hostname(pod: dict[str, Any], service: dict[str, Any]) -> bool:
    """A pod's hostname is published when its subdomain is the Service (the StatefulSet pattern)."""
    spec = pod.get("spec") or {}
    return bool(spec.get("hostname")) and spec.get("subdomain") == service["metadata"]["name"] \
        and pod["metadata"].get("namespace") == service["metadata"].get("namespace")


def is_headless(service: dict[str, Any]) -> bool:
    """No cluster IP (IsServiceIPSet is false): `clusterIP: None`, or none allocated."""
    return (service.get("spec") or {}).get("clusterIP") in (None, "", "None")


def labels_for(service: dict[str, Any]) -> dict[str, str]:
    """The Service's labels, plus `service.kubernetes.io/headless` exactly when it is headless."""
    labels = {k: v for k, v in (service["metadata"].get("labels") or {}).items() if k != HEADLESS_LABEL}
    if is_headless(service):
        labels[HEADLESS_LABEL] = ""
    return labels


def _address(service: dict[str, Any], pod: dict[str, Any]) -> dict[str, Any]:
    address: dict[str, Any] = {"ip": pod["status"]["podIP"]}
    if should_set_hostname(pod, service):
        address["hostname"] = pod["spec"]["hostname"]
    if (pod.get("spec") or {}).get("nodeName"):
        address["nodeName"] = pod["spec"]["nodeName"]
    address["targetRef"] = _target(pod)
    return address


def endpoints_subsets(service: dict[str, Any], pods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """v1 Endpoints subsets as RepackSubsets leaves them: the ports that share exactly the same
    addresses form one subset; addresses sorted by IP (then pod uid), ports by name and number."""
    publish = bool((service.get("spec") or {}).get("publishNotReadyAddresses"))
    by_port: dict[tuple[Any, ...], dict[str, tuple[dict[str, Any], bool]]] = {}
    for pod in endpoint_pods(service, pods):
        if pod["metadata"].get("deletionTimestamp") and not publish:
            continue
        address = _address(service, pod)
        entry = (address, is_ready(pod) or publish)
        for port in pod_ports(service, pod) or (None,):  # a pod without ports still counts (a sentinel port)
            by_port.setdefault(port or (), {})[f"{address['ip']}/{address['targetRef']['uid']}"] = entry
    by_addresses: dict[tuple[Any, ...], tuple[dict[str, tuple[dict[str, Any], bool]], list[Any]]] = {}
    for port, addresses in by_port.items():
        key = tuple(sorted((k, ready) for k, (_, ready) in addresses.items()))
        group = by_addresses.setdefault(key, (addresses, []))
        if port:
            group[1].append(port)
    out = [_subset(addresses, ports) for addresses, ports in by_addresses.values()]
    return sorted(out, key=lambda s: (s.get("addresses") or s.get("notReadyAddresses") or [{}])[0].get("ip", ""))


def truncate(subsets: list[dict[str, Any]]) -> bool:
    """Keep at most 1000 addresses in an Endpoints object, ready ones first, each subset its share
    rounded up (truncateEndpoints); True when some were dropped."""
    ready = sum(len(s.get("addresses") or ()) for s in subsets)
    not_ready = sum(len(s.get("notReadyAddresses") or ()) for s in subsets)
    if ready + not_ready <= MAX_ENDPOINTS_ADDRESSES:
        return False
    cut_ready = ready > MAX_ENDPOINTS_ADDRESSES
    room, total = (MAX_ENDPOINTS_ADDRESSES, ready) if cut_ready else (MAX_ENDPOINTS_ADDRESSES - ready, not_ready)
    left = room
    for subset in subsets:
        key = "addresses" if cut_ready else "notReadyAddresses"
        share = min(math.ceil(len(subset.get(key) or ()) / total * room), left)
        if subset.get(key):
            subset[key] = subset[key][:share]
            left -= len(subset[key])
            if not subset[key]:
                del subset[key]
        if cut_ready:
            subset.pop("notReadyAddresses", None)
    return True


def _subset(addresses: dict[str, tuple[dict[str, Any], bool]], ports: list[Any]) -> dict[str, Any]:
    subset: dict[str, Any] = {}
    ordered = sorted(addresses.values(), key=lambda e: (e[0]["ip"], e[0]["targetRef"].get("uid") or ""))
    ready = [a for a, ok in ordered if ok]
    not_ready = [a for a, ok in ordered if not ok]
    if ready:
        subset["addresses"] = ready
    if not_ready:
        subset["notReadyAddresses"] = not_ready
    if ports:
        subset["ports"] = [_port(p) for p in sorted(ports, key=lambda p: (p[0], p[1], p[2]))]
    return subset


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
        if should_set_hostname(pod, service):
            endpoint["hostname"] = pod["spec"]["hostname"]
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
