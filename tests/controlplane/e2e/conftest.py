from __future__ import annotations

from collections.abc import Iterator

import pytest

from .harness import Cluster, create_node, node, wait_for


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    c = Cluster()
    try:
        yield c
    finally:
        c.stop()


@pytest.fixture(scope="module")
def control_plane(cluster: Cluster) -> Cluster:
    """The scheduler and controllers in one process. Test nodes post no heartbeats, so the node
    monitor's grace is long here (see fast_node_monitor for the node lifecycle tests)."""
    return _start(cluster, "--node-monitor-grace-period=1h", "--node-startup-grace-period=1h")


@pytest.fixture(scope="module")
def fast_node_monitor() -> Iterator[Cluster]:
    """A cluster of its own whose node monitor gives up on silent nodes after 3 s."""
    c = Cluster()
    try:
        yield _start(c, "--node-monitor-period=1s", "--node-monitor-grace-period=3s", "--node-startup-grace-period=3s")
    finally:
        c.stop()


def _start(cluster: Cluster, *flags: str) -> Cluster:
    cluster.start("control-plane", "--port=0", "--leader-elect-retry-period=1s", *flags)
    wait_for(lambda: cluster.api.get("/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-scheduler"),
             30, what="scheduler lease")
    # the node the workload tests pin pods to; without it the pod garbage collector would (rightly)
    # delete their pods as orphans after 40 s
    fake = node("fake-node")
    fake["spec"] = {"taints": [{"key": "kwok.x-k8s.io/node", "value": "fake", "effect": "NoSchedule"}]}
    create_node(cluster.api, fake)
    return cluster
