"""Service cluster IPs and node ports: the allocation step of the Service REST storage.

The real server allocates from bitmaps kept in etcd as part of the Service create; here the
allocation reads the Services that exist (through the admission Lookup) and remembers, for a few
seconds, what it handed out to creates not yet visible in the store, so two concurrent creates
never get the same address. It runs as the last mutating step, so validation sees the result.
"""

from __future__ import annotations

import ipaddress
import random
import time
from collections.abc import Callable

from kwok.api import errors
from kwok.apiserver import servicenetwork
from kwok.apiserver.registry import AdmissionPlugin, AdmissionRequest, Cause, Lookup, Obj
from kwok.apiserver.strategies.fielderrors import invalid

_PENDING_SECONDS = 10.0


class _Pending:
    """Values handed out recently, forgotten once the store surely shows them."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.items: dict[object, float] = {}

    def add(self, value: object) -> None:
        self.items[value] = self.clock()

    def current(self) -> set[object]:
        cutoff = self.clock() - _PENDING_SECONDS
        self.items = {k: t for k, t in self.items.items() if t >= cutoff}
        return set(self.items)


class ServiceAllocation(AdmissionPlugin):
    name = "ServiceAllocation"

    def __init__(self, cidr: str | None = None, rng: random.Random | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.network = ipaddress.ip_network(cidr or servicenetwork.CURRENT.cidr)
        self.rng = rng or random.Random()
        self.pending_ips = _Pending(clock)
        self.pending_ports = _Pending(clock)

    def handles(self, req: AdmissionRequest) -> bool:
        return (req.info.group == "" and req.info.plural == "services" and not req.subresource
                and req.operation in ("CREATE", "UPDATE") and isinstance(req.obj, dict))

    async def admit(self, req: AdmissionRequest, lookup: Lookup) -> None:
        assert req.obj is not None
        spec = req.obj.setdefault("spec", {})
        if spec.get("type") == "ExternalName":
            for key in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"):
                spec.pop(key, None)
            return
        others = [s for s in await lookup.list("", "services", None)
                  if (s.get("metadata") or {}).get("uid") != (req.obj.get("metadata") or {}).get("uid")]
        held = (req.old or {}).get("spec") or {}   # what this Service holds already stays its own
        causes = self._cluster_ip(spec, others, held) + self._node_ports(spec, others, held)
        if causes:
            raise errors.invalid("Service", req.name, causes)

    # ---- cluster IP --------------------------------------------------------------------------
    def _cluster_ip(self, spec: Obj, others: list[Obj], held: Obj) -> list[Cause]:
        wanted = spec.get("clusterIP") or (spec.get("clusterIPs") or [""])[0]
        if wanted == "None":
            self._families(spec, headless=True)
            spec["clusterIP"], spec["clusterIPs"] = "None", ["None"]
            return []
        used = {(s.get("spec") or {}).get("clusterIP") for s in others} | self.pending_ips.current()
        used.discard(held.get("clusterIP"))
        if wanted:
            error = self._check_ip(wanted, used)
            if error:
                return [invalid("spec.clusterIPs[0]", wanted, f"failed to allocate IP {wanted}: {error}")]
        else:
            wanted = self._free_ip(used)
        self.pending_ips.add(wanted)
        spec["clusterIP"], spec["clusterIPs"] = wanted, [wanted]
        self._families(spec, headless=False)
        return []

    def _families(self, spec: Obj, headless: bool) -> None:
        if headless and not spec.get("selector"):
            # A selector-less headless Service is dual-stack capable, even on a single-stack cluster.
            spec.setdefault("ipFamilyPolicy", "RequireDualStack")
            spec.setdefault("ipFamilies", ["IPv4", "IPv6"])
            return
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        spec.setdefault("ipFamilies", ["IPv4"])

    def _check_ip(self, text: str, used: set[object]) -> str | None:
        try:
            ip = ipaddress.ip_address(text)
        except ValueError:
            return None   # validation reports the malformed address
        if ip not in self.network:
            return (f"the provided IP ({text}) is not in the valid range. The range of valid IPs is "
                    f"{self.network}")
        return "provided IP is already allocated" if text in used else None

    def _free_ip(self, used: set[object]) -> str:
        size = self.network.num_addresses
        base = int(self.network.network_address)
        for _ in range(64):
            candidate = str(ipaddress.ip_address(base + self.rng.randrange(2, size - 1)))
            if candidate not in used:
                return candidate
        for offset in range(2, size - 1):   # nearly full: scan
            candidate = str(ipaddress.ip_address(base + offset))
            if candidate not in used:
                return candidate
        raise errors.internal_error("failed to allocate a serviceIP: range is full")

    # ---- node ports --------------------------------------------------------------------------
    def _node_ports(self, spec: Obj, others: list[Obj], held: Obj) -> list[Cause]:
        if spec.get("type") not in ("NodePort", "LoadBalancer"):
            for port in spec.get("ports") or []:
                port.pop("nodePort", None)
            return []
        used = {p.get("nodePort") for s in others for p in (s.get("spec") or {}).get("ports") or []}
        used |= self.pending_ports.current()
        used -= {p.get("nodePort") for p in held.get("ports") or []}
        causes: list[Cause] = []
        for i, port in enumerate(spec.get("ports") or []):
            wanted = port.get("nodePort")
            if wanted and wanted in used:
                causes.append(invalid(f"spec.ports[{i}].nodePort", wanted, "provided port is already allocated"))
                continue
            if not wanted:
                wanted = self._free_port(used)
                port["nodePort"] = wanted
            used.add(wanted)
            self.pending_ports.add(wanted)
        return causes

    def _free_port(self, used: set[object]) -> int:
        low, high = servicenetwork.CURRENT.node_ports
        for _ in range(64):
            candidate = self.rng.randint(low, high)
            if candidate not in used:
                return candidate
        for candidate in range(low, high + 1):
            if candidate not in used:
                return candidate
        raise errors.internal_error("failed to allocate a nodePort: range is full")
