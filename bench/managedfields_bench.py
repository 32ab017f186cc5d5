"""µs per `update_managed_fields` call on the writes KWOK's benchmark makes (a script, not a test).

Workloads, each over many distinct objects as the API server records them (defaulted, server
metadata set), in the order a cluster sees them:

    node create       kwokctl's node template (status reset: nobody owns it through the resource)
    node status       the kwok controller's node-initialize PATCH of /status
    pod create        a ReplicaSet's pod and kwokctl's template pod (bound by kwokctl)
    pod status        the kwok controller's pod-ready PATCH of /status
    lease create      the kwok controller's node lease
    lease renew       the lease renewal PUT (only spec.renewTime changes)

Each figure is printed beside a baseline measured in the same run: the general algorithm with
the fast paths disabled (`managedfields.FAST_PATHS = False`). The results are checked equal.

    python bench/managedfields_bench.py [--objects 2000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import copy
import gc
import os
import time
from typing import Any

import orjson

from kwok.api import fieldpaths, managedfields
from kwok.api.managedfields import update_managed_fields

Obj = dict[str, Any]
MANAGER = "kwok-python"
NOW = "2026-11-28T04:41:20Z"
LATER = "2026-11-28T04:41:30Z"
SPEC_RESET = (("spec",),)
STATUS_RESET = (("status",),)


def _uid(i: int, salt: int) -> str:
    return f"{salt:08x}-{i >> 16 & 0xffff:04x}-4{i & 0xfff:03x}-8000-{i * 7919 + salt:012x}"


def node(i: int) -> Obj:
    name = f"fake-node-{i:06d}"
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {
            "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0",
                            "metrics.k8s.io/resource-metrics-path": f"/metrics/nodes/{name}/metrics/resource"},
            "creationTimestamp": NOW,
            "labels": {"beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
                       "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                       "kubernetes.io/role": "agent", "kwok.x-k8s.io/kwokctl-scale": "fake-node",
                       "node-role.kubernetes.io/agent": "", "type": "kwok"},
            "name": name, "uid": _uid(i, 1)},
        "spec": {"podCIDR": f"10.{i >> 8 & 255}.{i & 255}.0/24",
                 "podCIDRs": [f"10.{i >> 8 & 255}.{i & 255}.0/24", f"fd00:0:0:{i:x}::/64"]},
        "status": {"addresses": [{"address": f"192.0.{i >> 8 & 255}.{i & 255}", "type": "InternalIP"},
                                 {"address": f"2001:db8::{i:x}", "type": "InternalIP"}],
                   "allocatable": {"cpu": "32", "memory": "256Gi", "pods": "110"},
                   "capacity": {"cpu": "32", "memory": "256Gi", "pods": "110"},
                   "nodeInfo": {"architecture": "amd64", "operatingSystem": "linux"}},
    }


def node_initialized(stored: Obj, i: int) -> Obj:
    """The node after the kwok controller's node-initialize status patch."""
    result = copy.deepcopy(stored)
    beat = "2026-11-28T04:41:20.552456Z"
    conditions = [("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
                  ("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                  ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                  ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                  ("NetworkUnavailable", "False", "RouteCreated", "RouteController created a route")]
    status = result["status"]
    status["addresses"] = [{"address": "localhost", "type": "Hostname"}, *status["addresses"]]
    status["conditions"] = [{"lastHeartbeatTime": beat, "lastTransitionTime": NOW, "message": message,
                             "reason": reason, "status": value, "type": kind}
                            for kind, value, reason, message in conditions]
    status["daemonEndpoints"] = {"kubeletEndpoint": {"Port": 10250 + i % 1000}}
    status["nodeInfo"].update({"bootID": "", "containerRuntimeVersion": "kwok-v0.1.0", "kernelVersion": "kwok-v0.1.0",
                               "kubeProxyVersion": "kwok-v0.1.0", "kubeletVersion": "kwok-v0.1.0",
                               "machineID": "", "osImage": "", "systemUUID": ""})
    status["phase"] = "Running"
    return result


def replicaset_pod(i: int) -> Obj:
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"creationTimestamp": NOW, "generateName": "web-7995b8d97d-", "generation": 1,
                     "labels": {"app": "web", "pod-template-hash": "7995b8d97d"},
                     "name": f"web-7995b8d97d-{i:05x}", "namespace": "default",
                     "ownerReferences": [{"apiVersion": "apps/v1", "blockOwnerDeletion": True, "controller": True,
                                          "kind": "ReplicaSet", "name": "web-7995b8d97d",
                                          "uid": "ca24831c-9445-4548-b49e-b411725ae1e5"}],
                     "uid": _uid(i, 2)},
        "spec": {"containers": [{"image": "nginx", "imagePullPolicy": "Always", "name": "nginx", "resources": {},
                                 "terminationMessagePath": "/dev/termination-log",
                                 "terminationMessagePolicy": "File"}],
                 "dnsPolicy": "ClusterFirst", "enableServiceLinks": True, "preemptionPolicy": "PreemptLowerPriority",
                 "priority": 0, "restartPolicy": "Always", "schedulerName": "default-scheduler",
                 "securityContext": {}, "serviceAccount": "default", "serviceAccountName": "default",
                 "terminationGracePeriodSeconds": 30,
                 "tolerations": [{"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists",
                                  "tolerationSeconds": 300},
                                 {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable",
                                  "operator": "Exists", "tolerationSeconds": 300}]},
        "status": {"phase": "Pending", "qosClass": "BestEffort"},
    }


def kwokctl_pod(i: int) -> Obj:
    pod = replicaset_pod(i)
    meta = pod["metadata"]
    for key in ("generateName", "generation", "ownerReferences"):
        del meta[key]
    meta["name"] = f"fake-pod-{i:06d}"
    meta["labels"] = {"kwok.x-k8s.io/kwokctl-scale": "fake-pod"}
    spec = pod["spec"]
    spec["containers"] = [{"image": "busybox", "imagePullPolicy": "Always", "name": "container-0", "resources": {},
                           "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"}]
    spec["initContainers"] = []
    spec["hostNetwork"] = False
    spec["nodeName"] = f"fake-node-{i % 5000:06d}"
    return pod


def pod_ready(stored: Obj, i: int) -> Obj:
    """The pod after the kwok controller's pod-ready status patch."""
    result = copy.deepcopy(stored)
    at = "2026-11-28T04:41:24.335439Z"
    host = [f"192.0.{i >> 8 & 255}.{i & 255}", f"2001:db8::{i:x}"]
    pod_ips = [f"10.{i >> 8 & 255}.{i & 255}.1", f"fd00:0:0:{i:x}::1"]
    status = result["status"]
    status.update({
        "conditions": [{"lastTransitionTime": at, "status": "True", "type": kind}
                       for kind in ("Initialized", "Ready", "ContainersReady")]
        + [{"lastProbeTime": None, "lastTransitionTime": NOW, "status": "True", "type": "PodScheduled"}],
        "containerStatuses": [{"image": c["image"], "name": c["name"], "ready": True, "restartCount": 0,
                               "state": {"running": {"startedAt": at}}} for c in result["spec"]["containers"]],
        "hostIP": host[0], "hostIPs": [{"ip": ip} for ip in host], "phase": "Running",
        "podIP": pod_ips[0], "podIPs": [{"ip": ip} for ip in pod_ips], "startTime": at})
    return result


def lease(i: int) -> Obj:
    name = f"fake-node-{i:06d}"
    return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"creationTimestamp": NOW, "name": name, "namespace": "kube-node-lease",
                         "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": name, "uid": _uid(i, 1)}],
                         "uid": _uid(i, 3)},
            "spec": {"acquireTime": "2026-11-28T04:41:20.547914Z", "holderIdentity": f"kwok-{i}",
                     "leaseDurationSeconds": 40, "renewTime": "2026-11-28T04:41:20.547914Z"}}


def renewed(stored: Obj, i: int) -> Obj:
    result = copy.deepcopy(stored)
    result["spec"]["renewTime"] = f"2026-11-28T04:41:{30 + i % 20}.{i % 1000000:06d}Z"
    return result


Call = tuple[Obj | None, Obj, str, str, str, str, tuple[tuple[str, ...], ...]]


def workloads(count: int) -> dict[str, list[Call]]:
    """Every workload's calls (old, new, manager, apiVersion, time, subresource, reset fields)."""
    def record(call: Call) -> Obj:
        old, new, manager, api_version, now, subresource, ignored = call
        return update_managed_fields(old, new, manager, "Update", api_version, now, subresource, ignored=ignored)

    calls: dict[str, list[Call]] = {name: [] for name in (
        "node create", "node status", "pod create (ReplicaSet)", "pod create (kwokctl)", "pod status",
        "lease create", "lease renew")}
    for i in range(count):
        create: Call = (None, node(i), MANAGER, "v1", NOW, "", STATUS_RESET)
        calls["node create"].append(create)
        stored = record(create)
        calls["node status"].append((stored, node_initialized(stored, i), MANAGER, "v1", LATER, "status", SPEC_RESET))
        for name, make in (("pod create (ReplicaSet)", replicaset_pod), ("pod create (kwokctl)", kwokctl_pod)):
            create = (None, make(i), "kube-controller-manager" if "Replica" in name else MANAGER, "v1", NOW, "",
                      STATUS_RESET)
            calls[name].append(create)
            stored = record(create)
            if "kwokctl" in name:
                calls["pod status"].append((stored, pod_ready(stored, i), MANAGER, "v1", LATER, "status",
                                            SPEC_RESET))
        create = (None, lease(i), MANAGER, "coordination.k8s.io/v1", NOW, "", ())
        calls["lease create"].append(create)
        stored = record(create)
        calls["lease renew"].append((stored, renewed(stored, i), MANAGER, "coordination.k8s.io/v1", LATER, "", ()))
    return calls


def run(calls: list[Call]) -> tuple[float, list[Obj]]:
    """µs per call and the results."""
    results = []
    gc.collect()
    gc.disable()    # the results kept for checking would make collections dominate the figures
    try:
        start = time.perf_counter()
        for old, new, manager, api_version, now, subresource, ignored in calls:
            results.append(update_managed_fields(old, new, manager, "Update", api_version, now, subresource,
                                                 ignored=ignored))
        return (time.perf_counter() - start) / len(calls) * 1e6, results
    finally:
        gc.enable()


def measure(calls: list[Call], fast: bool) -> tuple[float, list[Obj]]:
    """One cold run (nothing remembered) with the fast paths on or off."""
    managedfields.FAST_PATHS = fieldpaths.FAST_PATHS = fast
    managedfields.forget_remembered()
    return run(calls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--objects", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    managedfields.FAST_PATHS = fieldpaths.FAST_PATHS = False
    prepared = workloads(args.objects)
    print(f"load average {os.getloadavg()[0]:.2f}; {args.objects} objects, best of {args.rounds} rounds")
    print(f"{'workload':28} {'baseline µs':>12} {'now µs':>9} {'speed-up':>9}")
    for name, calls in prepared.items():
        before = after = float("inf")
        for _ in range(args.rounds):   # interleaved, so that both see the same load
            elapsed, expected = measure(calls, False)
            before = min(before, elapsed)
            elapsed, got = measure(calls, True)
            after = min(after, elapsed)
        same = orjson.dumps(got) == orjson.dumps(expected)   # byte for byte, as clients read them
        print(f"{name:28} {before:12.1f} {after:9.1f} {before / after:8.2f}x{'' if same else '  MISMATCH'}")
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
