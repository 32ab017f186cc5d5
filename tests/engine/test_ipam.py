"""Pod IP pools: KWOK's allocation order, without its overflow and with stable owners."""

from __future__ import annotations

from typing import Any

import pytest

from kwok.engine.ipam import IPPool, IPPoolExhausted, PodNetwork, add_cidr, add_ip


def test_allocation_starts_at_base_plus_one_and_reuses_released() -> None:
    pool = IPPool("10.0.0.0/24")
    assert [pool.allocate(n) for n in "abc"] == ["10.0.0.1", "10.0.0.2", "10.0.0.3"]
    assert pool.allocate("a") == "10.0.0.1"  # an owner keeps its address
    pool.release("b")
    assert pool.allocate("d") == "10.0.0.2"


def test_exhaustion_is_an_error_not_an_overflow() -> None:
    pool = IPPool("10.0.0.0/30")  # .1 and .2 usable; .3 is the broadcast address
    pool.allocate(1)
    pool.allocate(2)
    with pytest.raises(IPPoolExhausted, match="CIDR 10.0.0.0/30 exhausted"):
        pool.allocate(3)


def test_used_addresses_survive_a_restart_and_are_never_handed_out_twice() -> None:
    pool = IPPool("10.0.0.0/24")
    assert pool.use("10.0.0.3", "old")
    assert not pool.use("10.9.0.1", "x")  # outside the CIDR
    assert [pool.allocate(n) for n in "ab"] == ["10.0.0.1", "10.0.0.2"]
    assert pool.allocate("c") == "10.0.0.4"
    assert not pool.use("10.0.0.3", "someone-else")


def nodes(**by_name: dict[str, Any]) -> PodNetwork:
    return PodNetwork("10.0.0.0/24", "192.168.0.1", lambda name: by_name.get(name))


def test_dual_stack_node_gives_one_ip_per_family() -> None:
    net = nodes(n={"spec": {"podCIDRs": ["10.1.0.0/24", "fd00::/64"]}})
    funcs = net.template_funcs()
    assert funcs["PodIPsWith"]("n", False, "u", "p", "ns") == ["10.1.0.1", "fd00::1"]
    assert funcs["PodIPWith"]("n", False, "u", "p", "ns") == "10.1.0.1"  # same pod, same address
    assert funcs["PodIPWith"]("n", False, "u2", "q", "ns") == "10.1.0.2"


def test_node_addresses_and_host_network() -> None:
    net = nodes(
        n={
            "status": {
                "addresses": [
                    {"type": "Hostname", "address": "n"},
                    {"type": "ExternalIP", "address": "2001:db8::1"},
                    {"type": "InternalIP", "address": "172.16.0.1"},
                    {"type": "InternalIP", "address": "172.16.0.2"},
                ]
            }
        }
    )
    funcs = net.template_funcs()
    assert funcs["NodeIPsWith"]("n") == ["172.16.0.1", "2001:db8::1"]
    assert funcs["NodeIPWith"]("unknown") == "192.168.0.1"  # falls back to --node-ip
    assert funcs["PodIPWith"]("n", True, "u", "p", "ns") == "172.16.0.1"
    assert funcs["PodIPWith"]("unknown", False, "u", "p", "ns") == "10.0.0.1"  # --cidr


def test_observe_and_forget_pods() -> None:
    net = nodes()
    pod = {
        "metadata": {"namespace": "ns", "name": "p", "uid": "u"},
        "spec": {"nodeName": "n"},
        "status": {"podIP": "10.0.0.7"},
    }
    net.observe_pod(pod)
    assert net.pod_ips("n", False, "u", "p", "ns") == ["10.0.0.7"]
    net.forget_pod(pod)
    assert net.pool("10.0.0.0/24").in_use() == 0


def test_scale_helpers() -> None:
    assert add_cidr("10.0.0.0/24", 1) == "10.0.1.0/24"
    assert add_cidr("fd00::/64", 2) == "fd00:0:0:2::/64"
    assert add_ip("192.0.2.1", 5) == "192.0.2.6"
    assert add_ip("2001:db8::1", 16) == "2001:db8::11"


def test_a_full_ipv4_range_on_a_dual_stack_node_leaves_pods_the_ipv6_address() -> None:
    from kwok.engine.ipam import IPPoolExhausted, PodNetwork

    node = {"spec": {"podCIDRs": ["10.0.0.0/30", "fd00::/64"]}}
    net = PodNetwork("10.0.0.0/24", "", lambda name: node)
    first = net.pod_ips("n", False, "u1", "a", "ns")
    second = net.pod_ips("n", False, "u2", "b", "ns")
    third = net.pod_ips("n", False, "u3", "c", "ns")
    assert [len(first), len(second)] == [2, 2]
    assert third == ["fd00::3"]  # no IPv4 left: IPv6 only, still unique
    assert len({*first, *second, *third}) == 5
    single = PodNetwork("10.0.0.0/30", "", lambda name: None)
    single.pod_ips("n", False, "u1", "a", "ns")
    single.pod_ips("n", False, "u2", "b", "ns")
    with pytest.raises(IPPoolExhausted, match="10.0.0.0/30 exhausted"):
        single.pod_ips("n", False, "u3", "c", "ns")


def test_address_text_is_ipaddress_text_in_every_range() -> None:
    import ipaddress
    import random

    from kwok.engine.ipam import format_ip, parse_ip

    rng = random.Random(7)
    values = [(4, rng.getrandbits(32)) for _ in range(2000)]
    for _ in range(4000):   # runs of zero groups of every length, and the ranges C prints dotted
        groups = [rng.getrandbits(16) if rng.random() < 0.5 else 0 for _ in range(8)]
        values.append((6, sum(g << (16 * i) for i, g in enumerate(groups))))
    values += [(6, 0), (6, 1), (6, 0xFFFF_0A00_0001), (6, 0x0A00_0001), (4, 0), (4, 2**32 - 1)]
    for version, value in values:
        text = format_ip(value, version)
        assert text == str(ipaddress.ip_address(value) if version == 4 else ipaddress.IPv6Address(value))
        assert parse_ip(text, version) == value
        assert parse_ip(text, 10 - version) is None


def test_parse_ip_reads_what_ipaddress_reads() -> None:
    from kwok.engine.ipam import parse_ip

    assert parse_ip("fe80::1%eth0", 6) == 0xFE80 << 112 | 1
    for bad in ("010.0.0.1", "1.2.3", "10.0.0.1 ", "", "10.0.0.256", "1::2::3", "pod-ip"):
        assert parse_ip(bad, 4) is None and parse_ip(bad, 6) is None
