"""Printers of nodes, services, endpoints and events."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from kwok.api.duration import since
from kwok.api.tables.cells import Cells, Obj, age, as_int, format_labels, get_path, list_with_more, meta_of

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
    for condition in get_path(node, "status", "conditions") or []:
        if condition.get("type") == "Ready":
            ready = condition  # printNode keeps the last one, as its map does
    words = ["Unknown" if ready is None else "Ready" if ready.get("status") == "True" else "NotReady"]
    if get_path(node, "spec", "unschedulable"):
        words.append("SchedulingDisabled")
    return ",".join(words)


def _node_address(node: Obj, type_: str) -> str:
    for address in get_path(node, "status", "addresses") or []:
        if address.get("type") == type_:
            return str(address.get("address", ""))
    return "<none>"


def node_row(node: Obj, now: datetime) -> Cells:
    info = get_path(node, "status", "nodeInfo") or {}
    return [
        meta_of(node).get("name", ""), _node_status(node), ",".join(node_roles(meta_of(node).get("labels"))) or "<none>",
        age(node, now), info.get("kubeletVersion", ""), _node_address(node, "InternalIP"),
        _node_address(node, "ExternalIP"), info.get("osImage") or "<unknown>",
        info.get("kernelVersion") or "<unknown>", info.get("containerRuntimeVersion") or "<unknown>",
    ]


def load_balancer(status: Obj | None) -> str:
    found = {i.get("ip") or i.get("hostname") for i in get_path(status, "loadBalancer", "ingress") or []}
    return ",".join(sorted(v for v in found if v))


def _service_external_ip(service: Obj) -> str:
    spec = service.get("spec") or {}
    external = spec.get("externalIPs") or []
    kind = spec.get("type") or ""
    if kind in ("ClusterIP", "NodePort"):
        return ",".join(external) or "<none>"
    if kind == "LoadBalancer":
        balancer = load_balancer(service.get("status"))
        if external:
            return ",".join(([balancer] if balancer else []) + external)
        return balancer or "<pending>"
    if kind == "ExternalName":
        return str(spec.get("externalName", ""))
    return "<unknown>"


def _service_ports(ports: list[Obj]) -> str:
    pieces = []
    for port in ports:
        node_port = as_int(port.get("nodePort"))
        prefix = f"{as_int(port.get('port'))}:{node_port}" if node_port > 0 else f"{as_int(port.get('port'))}"
        pieces.append(f"{prefix}/{port.get('protocol', '')}")
    return ",".join(pieces) or "<none>"


def service_row(service: Obj, now: datetime) -> Cells:
    spec = service.get("spec") or {}
    cluster_ips = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
    return [
        meta_of(service).get("name", ""), spec.get("type", ""), cluster_ips[0] if cluster_ips else "<none>",
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
                    shown.append(ip if port is None else _join_host_port(ip, as_int(port.get("port"))))
    text = ",".join(shown)
    return f"{text} + {count - limit} more..." if count > limit else text


def endpoint_slice_row(obj: Obj, now: datetime) -> Cells:
    ports = [str(p["port"]) if p.get("port") is not None else p.get("name") or "*" for p in obj.get("ports") or []]
    addresses = [a for e in obj.get("endpoints") or [] for a in e.get("addresses") or []]
    return [meta_of(obj).get("name", ""), obj.get("addressType", ""), list_with_more(ports, len(ports)),
            list_with_more(addresses, len(addresses)), age(obj, now)]


def _event_source(event: Obj) -> str:
    component = get_path(event, "source", "component") or event.get("reportingComponent") or ""
    host = get_path(event, "source", "host") or event.get("reportingInstance") or ""
    return f"{component}, {host}" if host else component


_EVENTS_V1_FIELDS = (("regarding", "involvedObject"), ("note", "message"), ("deprecatedSource", "source"),
                     ("deprecatedFirstTimestamp", "firstTimestamp"), ("deprecatedLastTimestamp", "lastTimestamp"),
                     ("deprecatedCount", "count"), ("reportingController", "reportingComponent"))


def events_v1_row(event: Obj, now: datetime) -> Cells:
    """events.k8s.io Events print as core Events, after the same field conversion."""
    core = dict(event)
    for new_name, core_name in _EVENTS_V1_FIELDS:
        if new_name in event:
            core[core_name] = event[new_name]
    return event_row(core, now)


def event_row(event: Obj, now: datetime) -> Cells:
    first = since(event.get("firstTimestamp"), now) if event.get("firstTimestamp") else since(event.get("eventTime"), now)
    last = since(event.get("lastTimestamp"), now) if event.get("lastTimestamp") else first
    count = as_int(event.get("count")) or 1
    if event.get("series"):
        last = since(get_path(event, "series", "lastObservedTime"), now)
        count = as_int(get_path(event, "series", "count"))
    involved = event.get("involvedObject") or {}
    kind = str(involved.get("kind", "")).lower()
    target = f"{kind}/{involved['name']}" if involved.get("name") else kind
    return [last, event.get("type", ""), event.get("reason", ""), target, involved.get("fieldPath", ""),
            _event_source(event), str(event.get("message", "")).strip(), first, count, meta_of(event).get("name", "")]

