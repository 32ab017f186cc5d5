"""What the scheduler needs to know about one pod, computed once per pod revision.

Parsing requests, ports, tolerations and affinity terms out of the pod dict on every filter call
would dominate scheduling time; a PodInfo holds them pre-digested (`framework.PodInfo` upstream).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kwok.api.selectors import LabelSelector, SelectorError, label_selector_from_object
from kwok.controlplane.resources import Resources, pod_nonzero_requests, pod_requests

HostPort = tuple[str, str, int]  # (hostIP, protocol, hostPort)
# Owners whose selector PodTopologySpread's system defaults use (services are not watched here).
SPREAD_BY_DEFAULT_KINDS = ("ReplicaSet", "StatefulSet", "ReplicationController")


@dataclass(frozen=True, slots=True)
class AffinityTerm:
    """A required or preferred pod (anti-)affinity term with its selector compiled."""

    selector: LabelSelector
    namespaces: frozenset[str]
    namespace_selector: LabelSelector | None  # None: only `namespaces`; an empty selector: all
    topology_key: str
    weight: int = 0

    def matches(self, pod: PodInfo, namespace_labels: dict[str, dict[str, str]]) -> bool:
        """Whether existing pod `pod` is one this term is about (namespace and labels)."""
        if pod.namespace not in self.namespaces:
            sel = self.namespace_selector
            if sel is None or not sel.matches(namespace_labels.get(pod.namespace)):
                return False
        return self.selector.matches(pod.labels)


@dataclass(slots=True)
class PodInfo:
    pod: dict[str, Any]
    key: str
    namespace: str
    name: str
    uid: str
    labels: dict[str, str]
    priority: int
    requests: Resources
    nonzero_cpu: int
    nonzero_memory: int
    host_ports: list[HostPort]
    tolerations: list[dict[str, Any]]
    owner_uid: str = ""  # the controller (ReplicaSet, StatefulSet, ...) whose pods spread by default
    required_affinity: list[AffinityTerm] = field(default_factory=list)
    required_anti_affinity: list[AffinityTerm] = field(default_factory=list)
    preferred_affinity: list[AffinityTerm] = field(default_factory=list)
    preferred_anti_affinity: list[AffinityTerm] = field(default_factory=list)

    @property
    def spec(self) -> dict[str, Any]:
        return self.pod.get("spec") or {}

    @property
    def node_name(self) -> str:
        return self.spec.get("nodeName") or ""

    @property
    def terminating(self) -> bool:
        return bool(self.pod["metadata"].get("deletionTimestamp"))

    @property
    def start_time(self) -> str:
        return (self.pod.get("status") or {}).get("startTime") or self.pod["metadata"].get("creationTimestamp") or ""

    @property
    def has_affinity_terms(self) -> bool:
        return bool(self.required_affinity or self.required_anti_affinity
                    or self.preferred_affinity or self.preferred_anti_affinity)


def _terms(pod_ns: str, terms: list[dict[str, Any]] | None, weighted: bool) -> list[AffinityTerm]:
    out = []
    for item in terms or ():
        term = item.get("podAffinityTerm", {}) if weighted else item
        try:
            selector = label_selector_from_object(term.get("labelSelector"))
            ns_sel_obj = term.get("namespaceSelector")
            ns_selector = None if ns_sel_obj is None else label_selector_from_object(ns_sel_obj)
        except SelectorError:
            continue  # the API server validates selectors; an invalid one selects nothing
        namespaces = frozenset(term.get("namespaces") or ())
        if not namespaces and ns_sel_obj is None:
            namespaces = frozenset((pod_ns,))
        out.append(AffinityTerm(selector, namespaces, ns_selector, term.get("topologyKey", ""),
                                int(item.get("weight", 0)) if weighted else 0))
    return out


def host_ports(spec: dict[str, Any]) -> list[HostPort]:
    """Host ports of the containers and sidecars (restartable init containers)."""
    containers = list(spec.get("containers") or ())
    containers += [c for c in spec.get("initContainers") or () if c.get("restartPolicy") == "Always"]
    ports = []
    for container in containers:
        for port in container.get("ports") or ():
            if port.get("hostPort"):
                ports.append((port.get("hostIP") or "0.0.0.0", port.get("protocol") or "TCP", int(port["hostPort"])))
    return ports


def pod_info(pod: dict[str, Any]) -> PodInfo:
    meta = pod["metadata"]
    spec = pod.get("spec") or {}
    ns = meta.get("namespace", "")
    cpu, memory = pod_nonzero_requests(pod)
    info = PodInfo(pod=pod, key=f"{ns}/{meta['name']}", namespace=ns, name=meta["name"], uid=meta.get("uid", ""),
                   labels=meta.get("labels") or {}, priority=int(spec.get("priority") or 0),
                   requests=pod_requests(pod), nonzero_cpu=cpu, nonzero_memory=memory,
                   host_ports=host_ports(spec), tolerations=spec.get("tolerations") or [])
    for ref in meta.get("ownerReferences") or ():
        if ref.get("controller") and ref.get("kind") in SPREAD_BY_DEFAULT_KINDS:
            info.owner_uid = ref.get("uid", "")
    affinity = spec.get("affinity") or {}
    pa, paa = affinity.get("podAffinity") or {}, affinity.get("podAntiAffinity") or {}
    if pa or paa:
        info.required_affinity = _terms(ns, pa.get("requiredDuringSchedulingIgnoredDuringExecution"), False)
        info.preferred_affinity = _terms(ns, pa.get("preferredDuringSchedulingIgnoredDuringExecution"), True)
        info.required_anti_affinity = _terms(ns, paa.get("requiredDuringSchedulingIgnoredDuringExecution"), False)
        info.preferred_anti_affinity = _terms(ns, paa.get("preferredDuringSchedulingIgnoredDuringExecution"), True)
    return info
