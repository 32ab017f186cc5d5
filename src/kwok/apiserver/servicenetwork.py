"""This server's Service network: kube-apiserver's --service-cluster-ip-range and
--service-node-port-range (defaults 10.96.0.0/12 and 30000-32767).

One server runs per process, so the settings are the process's: the Service allocation
(ClusterIPs, node ports), the node port validation and the `default/kubernetes` Service (the first
address of the range) read them.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

DEFAULT_CIDR = "10.96.0.0/12"
DEFAULT_NODE_PORTS = (30000, 32767)


@dataclass
class ServiceNetwork:
    cidr: str = DEFAULT_CIDR
    node_ports: tuple[int, int] = DEFAULT_NODE_PORTS

    @property
    def kubernetes_ip(self) -> str:
        """The `kubernetes` Service's ClusterIP: the first address of the range."""
        return str(next(ipaddress.ip_network(self.cidr).hosts()))


CURRENT = ServiceNetwork()


def parse_cidr(text: str) -> str:
    """The primary range of a --service-cluster-ip-range value ("10.96.0.0/12" or a dual-stack pair)."""
    primary = text.split(",")[0].strip()
    try:
        network = ipaddress.ip_network(primary, strict=True)
    except ValueError as exc:
        raise ValueError(f'--service-cluster-ip-range "{text}": {exc}') from None
    if network.num_addresses < 8:
        raise ValueError(f'--service-cluster-ip-range "{text}": the range is too small (at least 8 addresses)')
    return str(network)


def parse_port_range(text: str) -> tuple[int, int]:
    """kube-apiserver's port range forms: "30000-32767", "30000+2767" or a single port."""
    try:
        if "-" in text:
            low, high = (int(p) for p in text.split("-", 1))
        elif "+" in text:
            base, span = (int(p) for p in text.split("+", 1))
            low, high = base, base + span
        else:
            low = high = int(text)
    except ValueError:
        raise ValueError(f'--service-node-port-range "{text}": expected a range such as 30000-32767') from None
    if not 0 < low <= high <= 65535:
        raise ValueError(f'--service-node-port-range "{text}": ports must be 1-65535, the first not above the last')
    return low, high


def configure(cidr: str | None = None, node_ports: str | None = None) -> None:
    """Set the process's Service network from the flags (ValueError says which flag is wrong)."""
    CURRENT.cidr = parse_cidr(cidr) if cidr else DEFAULT_CIDR
    CURRENT.node_ports = parse_port_range(node_ports) if node_ports else DEFAULT_NODE_PORTS
