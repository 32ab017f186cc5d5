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
    """The scheduler and controllers in one process, with fast node monitoring for the tests."""
    cluster.start("control-plane", "--port=0", "--node-monitor-period=1s", "--node-monitor-grace-period=3s",
                  "--node-startup-grace-period=3s", "--leader-elect-retry-period=1s")
    wait_for(lambda: cluster.api.get("/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-scheduler"),
             30, what="scheduler lease")
    # the node the workload tests pin pods to; without it the pod garbage collector would (rightly)
    # delete their pods as orphans after 40 s
    fake = node("fake-node")
    fake["spec"] = {"taints": [{"key": "kwok.x-k8s.io/node", "value": "fake", "effect": "NoSchedule"}]}
    create_node(cluster.api, fake)
    return cluster
