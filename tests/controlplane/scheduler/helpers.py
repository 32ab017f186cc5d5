"""Builders of nodes and pods for scheduler tests (plain dicts, as the API returns them)."""

from __future__ import annotations

import random
from typing import Any

from kwok.controlplane.scheduler.framework import Algorithm
from kwok.controlplane.scheduler.nodeinfo import Snapshot
from kwok.controlplane.scheduler.podinfo import pod_info


def node(name: str, cpu: str = "4", memory: str = "8Gi", pods: int = 110, labels: dict[str, str] | None = None,
         taints: list[dict[str, Any]] | None = None, unschedulable: bool = False, **extra: str) -> dict[str, Any]:
    allocatable = {"cpu": cpu, "memory": memory, "pods": str(pods), **extra}
    return {
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
        "spec": {"taints": taints or [], "unschedulable": unschedulable},
        "status": {"allocatable": allocatable, "capacity": allocatable},
    }


def pod(name: str, cpu: str | None = None, memory: str | None = None, namespace: str = "default",
        labels: dict[str, str] | None = None, priority: int = 0, **spec: Any) -> dict[str, Any]:
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v is not None}
    container: dict[str, Any] = {"name": "c", "image": "busybox"}
    if requests:
        container["resources"] = {"requests": requests}
    return {
        "metadata": {"name": name, "namespace": namespace, "uid": f"uid-{name}", "labels": labels or {},
                     "creationTimestamp": "2026-01-01T00:00:00Z"},
        "spec": {"containers": [container], "priority": priority, **spec},
        "status": {"phase": "Pending"},
    }


def cluster(nodes: list[dict[str, Any]], placed: dict[str, list[dict[str, Any]]] | None = None,
            seed: int = 1) -> Algorithm:
    snapshot = Snapshot()
    for n in nodes:
        snapshot.set_node(n)
    for node_name, pods in (placed or {}).items():
        for p in pods:
            snapshot.add_pod(pod_info(p), node_name)
    return Algorithm(snapshot, random.Random(seed))
