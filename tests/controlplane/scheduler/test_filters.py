"""Filters and the FailedScheduling message, against kube-scheduler's default profile."""

from __future__ import annotations

from kwok.controlplane.scheduler.framework import (
    CycleState,
    FitError,
    num_feasible_nodes_to_find,
    run_filters,
)

from .helpers import cluster, node, pod

MASTER_TAINT = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}


def test_message_counts_reasons_per_node_sorted_as_strings() -> None:
    nodes = [node("master", taints=[MASTER_TAINT])] + [node(f"n{i}", cpu="1") for i in range(4)]
    result = cluster(nodes).schedule(_info(pod("big", cpu="2")))
    assert isinstance(result, FitError)
    assert result.message == (
        "0/5 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: },"
        " 4 Insufficient cpu."
    )


def test_histogram_sorts_ten_before_three() -> None:
    nodes = [node(f"a{i}", cpu="1") for i in range(10)] + [node(f"b{i}", unschedulable=True) for i in range(3)]
    result = cluster(nodes).schedule(_info(pod("p", cpu="2")))
    assert isinstance(result, FitError)
    assert result.message == "0/13 nodes are available: 10 Insufficient cpu, 3 node(s) were unschedulable."


def test_no_nodes() -> None:
    result = cluster([]).schedule(_info(pod("p")))
    assert isinstance(result, FitError) and result.message == "no nodes available to schedule pods"


def test_toleration_lets_pod_onto_tainted_node() -> None:
    taint = {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}
    algo = cluster([node("tainted", taints=[taint])])
    denied = algo.schedule(_info(pod("p")))
    assert isinstance(denied, FitError)
    assert denied.message == "0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}."
    tolerations = [{"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}]
    assert algo.schedule(_info(pod("p", tolerations=tolerations))) == "tainted"
    assert algo.schedule(_info(pod("p", tolerations=[{"operator": "Exists"}]))) == "tainted"
    wrong = [{"key": "dedicated", "operator": "Equal", "value": "cpu", "effect": "NoSchedule"}]
    assert isinstance(algo.schedule(_info(pod("p", tolerations=wrong))), FitError)


def test_prefer_no_schedule_only_scores() -> None:
    soft = {"key": "soft", "effect": "PreferNoSchedule"}
    algo = cluster([node("a", taints=[soft]), node("b")])
    assert {algo.schedule(_info(pod(f"p{i}"))) for i in range(5)} == {"b"}


def test_node_selector_and_required_affinity() -> None:
    nodes = [node("ssd", labels={"disk": "ssd", "zone": "z1"}), node("hdd", labels={"disk": "hdd", "zone": "z2"})]
    algo = cluster(nodes)
    assert algo.schedule(_info(pod("p", nodeSelector={"disk": "ssd"}))) == "ssd"
    affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "zone", "operator": "NotIn", "values": ["z1"]}]}]}}}
    assert algo.schedule(_info(pod("p", affinity=affinity))) == "hdd"
    none = algo.schedule(_info(pod("p", nodeSelector={"disk": "nvme"})))
    assert isinstance(none, FitError)
    assert none.message == "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector."


def test_preferred_node_affinity_wins_over_balance() -> None:
    nodes = [node("a", labels={"zone": "z1"}), node("b", labels={"zone": "z2"})]
    affinity = {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 1, "preference": {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["z2"]}]}}]}}
    algo = cluster(nodes, {"b": [pod("busy", cpu="1")]})
    assert algo.schedule(_info(pod("p", affinity=affinity))) == "b"


def test_gt_lt_and_match_fields() -> None:
    nodes = [node("small", labels={"cores": "2"}), node("large", labels={"cores": "16"})]
    gt = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "cores", "operator": "Gt", "values": ["4"]}]}]}}}
    by_name = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["small"]}]}]}}}
    algo = cluster(nodes)
    assert algo.schedule(_info(pod("p", affinity=gt))) == "large"
    assert algo.schedule(_info(pod("p", affinity=by_name))) == "small"


def test_resources_counted_with_init_containers_and_sidecars() -> None:
    spec = {
        "initContainers": [
            {"name": "sidecar", "restartPolicy": "Always", "resources": {"requests": {"cpu": "1"}}},
            {"name": "init", "resources": {"requests": {"cpu": "2500m"}}},
        ],
    }
    # sidecar(1) + init(2.5) = 3.5 > containers(0.5) + sidecar(1) = 1.5 -> 3.5 cpu needed
    algo = cluster([node("three", cpu="3"), node("four", cpu="4")])
    assert algo.schedule(_info(pod("p", cpu="500m", **spec))) == "four"
    assert _info(pod("p", cpu="500m", **spec)).requests["cpu"] == 3500


def test_too_many_pods_and_extended_resources() -> None:
    algo = cluster([node("tiny", pods=1)], {"tiny": [pod("existing")]})
    full = algo.schedule(_info(pod("p")))
    assert isinstance(full, FitError) and full.message == "0/1 nodes are available: 1 Too many pods."
    gpu = pod("gpu")
    gpu["spec"]["containers"][0]["resources"] = {"limits": {"nvidia.com/gpu": "1"}}
    algo = cluster([node("plain"), node("gpu-node", **{"nvidia.com/gpu": "2"})])
    assert algo.schedule(_info(gpu)) == "gpu-node"
    algo = cluster([node("plain")])
    lack = algo.schedule(_info(gpu))
    assert isinstance(lack, FitError) and lack.message == "0/1 nodes are available: 1 Insufficient nvidia.com/gpu."


def test_host_ports_conflict() -> None:
    web = pod("web")
    web["spec"]["containers"][0]["ports"] = [{"containerPort": 80, "hostPort": 8080}]
    algo = cluster([node("a")], {"a": [web]})
    other = pod("other")
    other["spec"]["containers"][0]["ports"] = [{"containerPort": 80, "hostPort": 8080, "hostIP": "10.0.0.1"}]
    result = algo.schedule(_info(other))
    assert isinstance(result, FitError)
    assert result.message == "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports."
    other["spec"]["containers"][0]["ports"][0]["protocol"] = "UDP"
    assert algo.schedule(_info(other)) == "a"


def test_least_allocated_prefers_emptier_node() -> None:
    algo = cluster([node("a"), node("b")], {"a": [pod("x", cpu="3", memory="6Gi")]})
    assert algo.schedule(_info(pod("p", cpu="100m", memory="100Mi"))) == "b"


def test_feasible_node_sampling_follows_kube_scheduler() -> None:
    assert num_feasible_nodes_to_find(50) == 50
    assert num_feasible_nodes_to_find(100) == 100
    assert num_feasible_nodes_to_find(1000) == 420  # 50 - 1000/125 = 42%
    assert num_feasible_nodes_to_find(5000) == 500  # 10%
    assert num_feasible_nodes_to_find(10000) == 500  # floor at 5%


def _info(p):  # noqa: ANN001, ANN202
    from kwok.controlplane.scheduler.podinfo import pod_info

    return pod_info(p)


def test_batched_pods_land_where_full_scoring_would() -> None:
    """Opportunistic batching must pick a best-scoring node each time, like a full cycle."""
    from kwok.controlplane.scheduler.framework import prioritize
    from kwok.controlplane.scheduler.podinfo import pod_info

    sizes = ["2", "4", "8", "3"]
    batched = cluster([node(f"n{i}", cpu=sizes[i % 4]) for i in range(120)])  # batching needs >= 100 nodes
    for i in range(12):
        info = pod_info(pod(f"p{i}", cpu="250m", memory="256Mi"))
        feasible = [n for n in batched.snapshot.order]
        best = max(prioritize(info, batched.snapshot, feasible))
        chosen = batched.schedule(info)
        assert isinstance(chosen, str)
        assert prioritize(info, batched.snapshot, [batched.snapshot.nodes[chosen]])[0] == best
        bound = pod(f"p{i}", cpu="250m", memory="256Mi")
        bound["spec"]["nodeName"] = chosen
        batched.assume(pod_info(bound), chosen)
    assert batched._batch is not None  # the batch survived its own placements


def test_batch_follows_node_and_pod_churn_like_a_full_cycle() -> None:
    """Nodes tainted, added and emptied while a batch is in use: each pick is still feasible and
    best-scoring, and the batch is updated in place rather than rebuilt over every node."""
    from kwok.controlplane.scheduler.framework import prioritize
    from kwok.controlplane.scheduler.podinfo import pod_info

    algo = cluster([node(f"n{i}", cpu="4") for i in range(120)])
    snapshot = algo.snapshot

    def place(i: int) -> str:
        info = pod_info(pod(f"p{i}", cpu="500m", memory="256Mi"))
        best = max(prioritize(info, snapshot, [n for n in snapshot.order if run_filters(info, n, CycleState()) is None]))
        chosen = algo.schedule(info)
        assert isinstance(chosen, str)
        assert run_filters(info, snapshot.nodes[chosen], CycleState()) is None
        assert prioritize(info, snapshot, [snapshot.nodes[chosen]])[0] == best
        bound = pod(f"p{i}", cpu="500m", memory="256Mi")
        bound["spec"]["nodeName"] = chosen
        algo.assume(pod_info(bound), chosen)
        return chosen

    first = place(0)
    batch = algo._batch
    for i in range(1, 40):
        chosen = place(i)
        before = snapshot.generation
        if i % 3 == 0:  # the node just used gets an untolerated taint
            snapshot.set_node(node(chosen, cpu="4", taints=[{"key": "k", "effect": "NoSchedule"}]))
            algo.node_changed(chosen, before)
        elif i % 3 == 1:  # a new, bigger node joins: it scores best
            snapshot.set_node(node(f"big{i}", cpu="64"))
            algo.node_changed(f"big{i}", before)
            assert place(1000 + i) == f"big{i}"
        else:  # the first node's pods leave it
            for key in [k for k, n in snapshot.pod_node.items() if n == first]:
                before = snapshot.generation
                snapshot.remove_pod(key)
                algo.node_changed(first, before)
    assert algo._batch is batch  # never rebuilt
