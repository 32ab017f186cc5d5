"""Inter-pod affinity, topology spread and preemption decisions."""

from __future__ import annotations

from kwok.controlplane.scheduler.framework import FitError
from kwok.controlplane.scheduler.podinfo import pod_info
from kwok.controlplane.scheduler.preemption import preempt

from .helpers import cluster, node, pod

ZONES = {"a1": "za", "a2": "za", "b1": "zb", "b2": "zb"}


def zoned_nodes(**kw):  # noqa: ANN003, ANN201
    return [node(n, labels={"topology.kubernetes.io/zone": z}, **kw) for n, z in ZONES.items()]


def required(kind: str, app: str, key: str) -> dict:
    return {kind: {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": app}}, "topologyKey": key}]}}


def test_pod_affinity_follows_matching_pod_into_its_zone() -> None:
    algo = cluster(zoned_nodes(), {"b2": [pod("db", labels={"app": "db"})]})
    affinity = required("podAffinity", "db", "topology.kubernetes.io/zone")
    assert {algo.schedule(pod_info(pod(f"w{i}", affinity=affinity))) for i in range(6)} <= {"b1", "b2"}


def test_first_pod_of_self_affine_group_is_allowed() -> None:
    algo = cluster(zoned_nodes())
    affinity = required("podAffinity", "web", "topology.kubernetes.io/zone")
    assert algo.schedule(pod_info(pod("w", labels={"app": "web"}, affinity=affinity))) in ZONES
    stranger = algo.schedule(pod_info(pod("x", affinity=affinity)))
    assert isinstance(stranger, FitError)
    assert stranger.message == "0/4 nodes are available: 4 node(s) didn't match pod affinity rules."


def test_anti_affinity_per_host_and_existing_pods_rules() -> None:
    anti = required("podAntiAffinity", "web", "kubernetes.io/hostname")
    placed = {n: [pod(f"web-{n}", labels={"app": "web"}, affinity=anti)] for n in ("a1", "a2", "b1")}
    algo = cluster(zoned_nodes(), placed)
    assert algo.schedule(pod_info(pod("new", labels={"app": "web"}, affinity=anti))) == "b2"
    # a pod without rules but matching the existing pods' anti-affinity is kept off their hosts
    assert algo.schedule(pod_info(pod("plain", labels={"app": "web"}))) == "b2"
    algo.snapshot.add_pod(pod_info(pod("web-b2", labels={"app": "web"}, affinity=anti)), "b2")
    full = algo.schedule(pod_info(pod("more", labels={"app": "web"}, affinity=anti)))
    assert isinstance(full, FitError)
    assert full.message == (
        "0/4 nodes are available: 4 node(s) didn't match pod anti-affinity rules."
    )


def spread(max_skew: int, when: str = "DoNotSchedule", key: str = "topology.kubernetes.io/zone") -> list[dict]:
    return [{"maxSkew": max_skew, "topologyKey": key, "whenUnsatisfiable": when,
             "labelSelector": {"matchLabels": {"app": "web"}}}]


def test_topology_spread_do_not_schedule_balances_zones() -> None:
    algo = cluster(zoned_nodes())
    placed: dict[str, int] = {}
    for i in range(8):
        p = pod(f"web-{i}", labels={"app": "web"}, topologySpreadConstraints=spread(1))
        name = algo.schedule(pod_info(p))
        assert isinstance(name, str)
        algo.snapshot.add_pod(pod_info(p), name)
        zone = ZONES[name]
        placed[zone] = placed.get(zone, 0) + 1
        assert abs(placed.get("za", 0) - placed.get("zb", 0)) <= 1


def test_topology_spread_rejects_skew_and_missing_label() -> None:
    nodes = [node("a1", labels={"topology.kubernetes.io/zone": "za"}),
             node("b1", cpu="1", labels={"topology.kubernetes.io/zone": "zb"}), node("bare")]
    placed = {"a1": [pod("w0", labels={"app": "web"})], "b1": [pod("hog", cpu="1")]}
    p = pod("p", cpu="100m", labels={"app": "web"}, topologySpreadConstraints=spread(1))
    result = cluster(nodes, placed).schedule(pod_info(p))
    assert isinstance(result, FitError)
    assert result.message == (
        "0/3 nodes are available: 1 Insufficient cpu, 1 node(s) didn't match pod topology spread constraints,"
        " 1 node(s) didn't match pod topology spread constraints (missing required label)."
    )


def test_topology_spread_only_counts_nodes_the_pod_may_use() -> None:
    placed = {"a1": [pod("w0", labels={"app": "web"})], "a2": [pod("w1", labels={"app": "web"})]}
    p = pod("p", labels={"app": "web"}, topologySpreadConstraints=spread(1),
            nodeSelector={"topology.kubernetes.io/zone": "za"})
    # zone zb is outside the pod's node affinity (nodeAffinityPolicy: Honor), so za alone sets the minimum
    assert cluster(zoned_nodes(), placed).schedule(pod_info(p)) in ("a1", "a2")


def test_topology_spread_skew_message() -> None:
    placed = {"a1": [pod("w0", labels={"app": "web"})], "a2": [pod("w1", labels={"app": "web"})]}
    nodes = zoned_nodes(cpu="1")
    hog = {"b1": [pod("hog1", cpu="1")], "b2": [pod("hog2", cpu="1")]}
    algo = cluster(nodes, {**placed, **hog})
    result = algo.schedule(pod_info(pod("p", cpu="100m", labels={"app": "web"}, topologySpreadConstraints=spread(1))))
    assert isinstance(result, FitError)
    assert result.message == ("0/4 nodes are available: 2 Insufficient cpu,"
                              " 2 node(s) didn't match pod topology spread constraints.")


def test_schedule_anyway_prefers_emptier_zone() -> None:
    placed = {"a1": [pod("w0", labels={"app": "web"})], "a2": [pod("w1", labels={"app": "web"})]}
    algo = cluster(zoned_nodes(), placed)
    p = pod("p", labels={"app": "web"}, topologySpreadConstraints=spread(1, "ScheduleAnyway"))
    assert {algo.schedule(pod_info(p)) for _ in range(6)} <= {"b1", "b2"}


def test_preemption_evicts_lowest_priority_and_reports_failures() -> None:
    nodes = [node("n1", cpu="2"), node("n2", cpu="2"), node("tainted", taints=[{"key": "k", "effect": "NoSchedule"}])]
    placed = {"n1": [pod("low", cpu="2", priority=10)], "n2": [pod("mid", cpu="2", priority=100)]}
    algo = cluster(nodes, placed)
    high = pod_info(pod("high", cpu="1", priority=1000))
    error = algo.schedule(high)
    assert isinstance(error, FitError)
    outcome = preempt(high, algo.snapshot, algo.pre_filter(high, {}), error, lambda p: False)
    assert outcome.candidate is not None and outcome.candidate.node == "n1"
    assert [v.name for v in outcome.candidate.victims] == ["low"]
    # nothing changed in the snapshot while simulating
    assert set(algo.snapshot.nodes["n1"].pods) == {"default/low"}

    medium = pod_info(pod("medium", cpu="1", priority=5))
    error = algo.schedule(medium)
    assert isinstance(error, FitError)
    outcome = preempt(medium, algo.snapshot, algo.pre_filter(medium, {}), error, lambda p: False)
    assert outcome.candidate is None
    assert outcome.message == ("preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling,"
                               " 2 No preemption victims found for incoming pod.")
    error.post_filter_msg = outcome.message
    assert error.message == (
        "0/3 nodes are available: 1 node(s) had untolerated taint {k: }, 2 Insufficient cpu."
        " preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling,"
        " 2 No preemption victims found for incoming pod."
    )


def test_preemption_reprieves_pods_it_does_not_need() -> None:
    placed = {"n1": [pod("a", cpu="1", priority=1), pod("b", cpu="1", priority=2), pod("c", cpu="1", priority=3)]}
    algo = cluster([node("n1", cpu="3")], placed)
    high = pod_info(pod("high", cpu="1", priority=100))
    error = algo.schedule(high)
    assert isinstance(error, FitError)
    outcome = preempt(high, algo.snapshot, algo.pre_filter(high, {}), error, lambda p: False)
    assert outcome.candidate is not None and [v.name for v in outcome.candidate.victims] == ["a"]
    never = pod_info(pod("never", cpu="1", priority=100, preemptionPolicy="Never"))
    outcome = preempt(never, algo.snapshot, algo.pre_filter(never, {}), error, lambda p: False)
    assert outcome.candidate is None and outcome.message == "preemption: not eligible due to preemptionPolicy=Never."


def test_nominated_higher_priority_pod_keeps_its_room() -> None:
    algo = cluster([node("n1", cpu="2")])
    nominated = pod_info(pod("vip", cpu="2", priority=100))
    low = pod_info(pod("low", cpu="1"))
    result = algo.schedule(low, {"n1": [nominated]})
    assert isinstance(result, FitError) and result.message == "0/1 nodes are available: 1 Insufficient cpu."


def owned(name: str, owner: str = "rs-1") -> dict:
    p = pod(name, labels={"app": "web"})
    p["metadata"]["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web", "uid": owner,
                                         "controller": True}]
    return p


def test_replicas_of_one_owner_spread_over_nodes_by_default() -> None:
    """PodTopologySpread's system defaults: a ReplicaSet's pods prefer nodes with fewer of them."""
    for size in (2, 150):  # all nodes scored, and the batched path of large clusters
        algo = cluster([node(f"n{i}", cpu="32", memory="256Gi") for i in range(size)])
        placed: dict[str, int] = {}
        for i in range(size * 2):
            info = pod_info(owned(f"p{i}"))
            name = algo.schedule(info)
            assert isinstance(name, str)
            bound = owned(f"p{i}")
            bound["spec"]["nodeName"] = name
            algo.assume(pod_info(bound), name)
            placed[name] = placed.get(name, 0) + 1
        assert sorted(placed.values()) == [2] * size, placed
