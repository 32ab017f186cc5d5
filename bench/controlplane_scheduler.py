"""Scheduler throughput without I/O: N pods onto M nodes through the pure algorithm.

    python bench/controlplane_scheduler.py --nodes 5000 --pods 10000

Measures what the scheduling loop itself costs (filters, scores, assume); the binding round trips
are pipelined separately and measured by bench/controlplane_deployment.py end to end.
"""

from __future__ import annotations

import argparse
import random
import time

from kwok.controlplane.scheduler.framework import Algorithm, FitError
from kwok.controlplane.scheduler.nodeinfo import Snapshot
from kwok.controlplane.scheduler.podinfo import pod_info


def fake_node(i: int) -> dict:
    allocatable = {"cpu": "32", "memory": "256Gi", "pods": "110"}
    return {"metadata": {"name": f"node-{i}", "labels": {"kubernetes.io/hostname": f"node-{i}", "type": "kwok"}},
            "spec": {"taints": [{"key": "kwok.x-k8s.io/node", "value": "fake", "effect": "NoSchedule"}]},
            "status": {"allocatable": allocatable, "capacity": allocatable}}


def fake_pod(i: int) -> dict:
    return {"metadata": {"name": f"pod-{i}", "namespace": "default", "uid": f"uid-{i}", "labels": {"app": "web"},
                         "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"containers": [{"name": "c", "image": "busybox",
                                     "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}],
                     "tolerations": [{"key": "kwok.x-k8s.io/node", "operator": "Exists", "effect": "NoSchedule"}]}}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--pods", type=int, default=10000)
    args = parser.parse_args()
    snapshot = Snapshot()
    for i in range(args.nodes):
        snapshot.set_node(fake_node(i))
    algo = Algorithm(snapshot, random.Random(1))
    pods = [fake_pod(i) for i in range(args.pods)]
    start = time.perf_counter()
    for p in pods:
        info = pod_info(p)
        node = algo.schedule(info)
        assert not isinstance(node, FitError), node.message
        bound = dict(p, spec={**p["spec"], "nodeName": node})
        algo.assume(pod_info(bound), node)
    elapsed = time.perf_counter() - start
    per_node = [len(n.pods) for n in snapshot.order]
    print(f"{args.pods} pods onto {args.nodes} nodes in {elapsed:.2f}s: {args.pods / elapsed:.0f} pods/s; "
          f"pods per node min {min(per_node)} max {max(per_node)}")


if __name__ == "__main__":
    main()
