"""Pod IP pools (KWOK's ipPool, pod_controller.go) and the IP helpers of scale templates.

KWOK keeps one in-memory pool per CIDR string: a released IP is handed out again first, otherwise
the next address counting from base+1. The pod's CIDRs are the node's `spec.podCIDRs` (one pool
per family, for dual stack), else `spec.podCIDR`, else `--cidr`. The IPs a pod already carries
are marked used before kwok patches it, so addresses survive a restart, and go back to the pool
when the pod is deleted. Host-network pods get the node's IPs.

Unlike KWOK, a pool never hands out an address outside its CIDR (nor an IPv4 broadcast address):
it raises `IPPoolExhausted` instead of silently overflowing, and an owner (namespace/name/uid)
keeps its address across renders, so two live pods never share one. On a dual-stack node whose
range of one family is full, a pod gets the address of the other family only.
"""

from __future__ import annotations

import heapq
import ipaddress
import socket
from collections.abc import Callable, Mapping
from typing import Any

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class IPPoolExhausted(RuntimeError):
    """Every address of the CIDR is in use."""


class IPPool:
    """The addresses of one CIDR, allocated to owners (any hashable key, e.g. "ns/name/uid")."""

    def __init__(self, cidr: str) -> None:
        self.network: IPNetwork = ipaddress.ip_network(cidr, strict=False)
        self._base = int(self.network.network_address)
        size = self.network.num_addresses
        # Offsets 1 .. last; an IPv4 broadcast address is not a host address.
        self._last = size - 2 if self.network.version == 4 and size > 2 else size - 1
        self._next = 1
        self._free: list[int] = []
        self._owner_of: dict[int, Any] = {}
        self._offset_of: dict[Any, int] = {}

    @property
    def cidr(self) -> str:
        return str(self.network)

    def allocate(self, owner: Any) -> str:
        """The owner's address, allocating one if it has none."""
        offset = self._offset_of.get(owner)
        if offset is None:
            offset = self._take()
            self._bind(offset, owner)
        return self._address(offset)

    def use(self, ip: str, owner: Any) -> bool:
        """Record that `owner` carries `ip` (e.g. found in a pod's status); False if outside."""
        offset = self._offset(ip)
        if offset is None or self._owner_of.get(offset, owner) != owner:
            return False
        if owner in self._offset_of and self._offset_of[owner] != offset:
            self.release(owner)
        self._bind(offset, owner)
        if offset >= self._next:
            self._free.extend(range(self._next, offset))
            heapq.heapify(self._free)
            self._next = offset + 1
        elif offset in self._free:
            self._free.remove(offset)
            heapq.heapify(self._free)
        return True

    def release(self, owner: Any) -> None:
        offset = self._offset_of.pop(owner, None)
        if offset is not None:
            del self._owner_of[offset]
            heapq.heappush(self._free, offset)

    def contains(self, ip: str) -> bool:
        return self._offset(ip) is not None

    def in_use(self) -> int:
        return len(self._owner_of)

    def _take(self) -> int:
        while self._free:
            offset = heapq.heappop(self._free)
            if offset not in self._owner_of:
                return offset
        if self._next > self._last:
            raise IPPoolExhausted(f"CIDR {self.cidr} exhausted: all {self._last} addresses are in use")
        self._next += 1
        return self._next - 1

    def _bind(self, offset: int, owner: Any) -> None:
        self._owner_of[offset] = owner
        self._offset_of[owner] = offset

    def _address(self, offset: int) -> str:
        return format_ip(self._base + offset, self.network.version)

    def _offset(self, ip: str) -> int | None:
        value = parse_ip(ip, self.network.version)
        if value is None:
            return None
        offset = value - self._base
        return offset if 1 <= offset <= self._last else None


NodeLookup = Callable[[str], Mapping[str, Any] | None]


class PodNetwork:
    """The IP template functions of the pod controller, over per-CIDR pools.

    `node_lookup(name)` returns the node object (or None); `node_ip` is `--node-ip`, the
    fallback node address; `default_cidr` is `--cidr`.
    """

    def __init__(self, default_cidr: str, node_ip: str, node_lookup: NodeLookup) -> None:
        self.default_cidr = default_cidr
        self.node_ip = node_ip
        self._node_lookup = node_lookup
        self._pools: dict[str, IPPool] = {}

    def pool(self, cidr: str) -> IPPool:
        found = self._pools.get(cidr)
        if found is None:
            found = self._pools[cidr] = IPPool(cidr)
        return found

    def node_cidrs(self, node_name: str) -> list[str]:
        spec = (self._node_lookup(node_name) or {}).get("spec") or {}
        cidrs = spec.get("podCIDRs") or ([spec["podCIDR"]] if spec.get("podCIDR") else [])
        return [str(c) for c in cidrs] or [self.default_cidr]

    def node_ips(self, node_name: str) -> list[str]:
        """InternalIPs first, then ExternalIPs; a second address only of the other family."""
        status = (self._node_lookup(node_name) or {}).get("status") or {}
        addresses = status.get("addresses") or []
        ordered = [
            a.get("address") for t in ("InternalIP", "ExternalIP") for a in addresses if a.get("type") == t
        ]
        ordered = [a for a in ordered if a]
        if not ordered:
            return [self.node_ip] if self.node_ip else []
        first = ordered[0]
        other = next((a for a in ordered[1:] if _family(a) != _family(first)), None)
        return [first, other] if other else [first]

    def pod_ips(self, node_name: str, host_network: bool, uid: str, name: str, namespace: str) -> list[str]:
        if host_network:
            return self.node_ips(node_name)
        owner = (namespace, name, uid)
        ips: list[str] = []
        exhausted: IPPoolExhausted | None = None
        for cidr in self.node_cidrs(node_name):
            try:
                ips.append(self.pool(cidr).allocate(owner))
            except IPPoolExhausted as err:
                exhausted = exhausted or err
        # A dual-stack node whose range of one family is full still starts pods with the other
        # family's address (KWOK's benchmark puts 10,000 pods on one node with a /24 and a /64);
        # only when every range is full does the pod wait, as a real kubelet's CNI would.
        if not ips and exhausted is not None:
            raise exhausted
        return ips

    def observe_pod(self, pod: Mapping[str, Any]) -> None:
        """Mark the IPs a pod carries as used (before patching it, as KWOK does)."""
        if _host_network(pod):
            return
        owner = _owner(pod)
        status = pod.get("status") or {}
        ips = [p.get("ip") for p in status.get("podIPs") or []] or [status.get("podIP")]
        node = str((pod.get("spec") or {}).get("nodeName") or "")
        for ip in filter(None, ips):
            for cidr in self.node_cidrs(node):
                if self.pool(cidr).use(str(ip), owner):
                    break

    def forget_pod(self, pod: Mapping[str, Any]) -> None:
        """Return a deleted pod's addresses to their pools."""
        owner = _owner(pod)
        for pool in self._pools.values():
            pool.release(owner)

    def template_funcs(self) -> dict[str, Callable[..., Any]]:
        """NodeIP, PodIP, NodeIPWith, NodeIPsWith, PodIPWith, PodIPsWith for pod templates."""
        return {
            "NodeIP": lambda: self.node_ip,
            "PodIP": lambda: self.pool(self.default_cidr).allocate(("", "", object())),
            "NodeIPWith": lambda node: _first(self.node_ips(str(node or ""))),
            "NodeIPsWith": lambda node: self.node_ips(str(node or "")),
            "PodIPWith": lambda node, host, uid, name, ns: _first(
                self.pod_ips(*_pod_args(node, host, uid, name, ns))
            ),
            "PodIPsWith": lambda node, host, uid, name, ns: self.pod_ips(
                *_pod_args(node, host, uid, name, ns)
            ),
        }


def _pod_args(node: Any, host: Any, uid: Any, name: Any, ns: Any) -> tuple[str, bool, str, str, str]:
    return str(node or ""), host is True or host == "true", str(uid or ""), str(name or ""), str(ns or "")


def _first(values: list[str]) -> str:
    return values[0] if values else ""


def _family(ip: str) -> int:
    return 6 if ":" in ip else 4


# A pod's address is formatted and parsed at every render: the C library does both in a fraction of
# the time `ipaddress` takes (its IPv6 text form is a Python loop), with the same results except
# for the IPv4-compatible and IPv4-mapped IPv6 ranges, which C prints in dotted form.
_FAMILY = {4: (socket.AF_INET, 4), 6: (socket.AF_INET6, 16)}


def format_ip(value: int, version: int) -> str:
    """`str(ipaddress.ip_address(value))` for an address of the given family."""
    if version == 6 and value >> 32 in (0, 0xFFFF):
        return str(ipaddress.IPv6Address(value))
    family, size = _FAMILY[version]
    return socket.inet_ntop(family, value.to_bytes(size, "big"))


def parse_ip(ip: str, version: int) -> int | None:
    """The integer of `ip` when it is an address of the given family (as `ipaddress` reads it)."""
    if (":" in ip) != (version == 6):
        return None
    family, _size = _FAMILY[version]
    try:
        return int.from_bytes(socket.inet_pton(family, ip), "big")
    except OSError:
        pass
    try:   # what only `ipaddress` reads, e.g. an IPv6 scope ("fe80::1%eth0")
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    return int(address) if address.version == version else None


def _host_network(pod: Mapping[str, Any]) -> bool:
    return bool((pod.get("spec") or {}).get("hostNetwork"))


def _owner(pod: Mapping[str, Any]) -> tuple[str, str, str]:
    meta = pod.get("metadata") or {}
    return (str(meta.get("namespace") or ""), str(meta.get("name") or ""), str(meta.get("uid") or ""))


def add_cidr(cidr: str, index: int) -> str:
    """AddCIDR: the index-th next subnet of the same size (`10.0.0.0/24`, 1 -> `10.0.1.0/24`)."""
    network = ipaddress.ip_network(cidr, strict=False)
    shifted = int(network.network_address) + int(index) * network.num_addresses
    return f"{ipaddress.ip_address(shifted)}/{network.prefixlen}"


def add_ip(ip: str, index: int) -> str:
    """AddIP: the address `index` after `ip`."""
    return str(ipaddress.ip_address(ip) + int(index))
