"""PDB status, quota usage, TTL expiry and pod GC decisions, driven without an API server."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kwok.controlplane.controllers import disruption, podgc, resourcequota, ttlafterfinished
from kwok.controlplane.timefmt import rfc3339

from .objects import NOW, make_pod

# PodDisruptionBudget status

def budget(**spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": "b", "namespace": "default", "generation": 3},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, **spec}}


RS = {"kind": "ReplicaSet", "metadata": {"name": "web-rs", "uid": "rs-uid"}}


def web_pods(ready: int, not_ready: int = 0) -> list[dict[str, Any]]:
    return [make_pod(f"w{i}", {"app": "web"}, ready=i < ready, owner=RS) for i in range(ready + not_ready)]


def scale(replicas: int) -> dict[str, tuple[str, int]]:
    """The ReplicaSet belongs to a Deployment of `replicas`."""
    return {"rs-uid": ("deploy-uid", replicas)}


@pytest.mark.parametrize(("spec", "ready", "not_ready", "desired", "allowed"), [
    ({"minAvailable": 2}, 3, 0, 2, 1),
    ({"minAvailable": 2}, 2, 1, 2, 0),
    ({"minAvailable": "50%"}, 3, 0, 2, 1),  # percentages round up
    ({"maxUnavailable": 1}, 3, 0, 2, 1),
    ({"maxUnavailable": "34%"}, 3, 0, 1, 2),  # 34% of 3 rounds up to 2 unavailable
    ({"maxUnavailable": 0}, 3, 0, 3, 0),
    ({"minAvailable": 5}, 3, 0, 5, 0),
])
def test_pdb_status(spec: dict[str, Any], ready: int, not_ready: int, desired: int, allowed: int) -> None:
    status = disruption.pdb_status(budget(**spec), web_pods(ready, not_ready), NOW, scale(ready + not_ready))
    assert (status["currentHealthy"], status["desiredHealthy"], status["disruptionsAllowed"]) == (ready, desired, allowed)
    assert status["expectedPods"] == ready + not_ready and status["observedGeneration"] == 3
    [cond] = status["conditions"]
    assert cond["type"] == "DisruptionAllowed"
    assert (cond["status"], cond["reason"]) == (("True", "SufficientPods") if allowed else ("False", "InsufficientPods"))


def test_pdb_condition_keeps_its_transition_time_while_unchanged() -> None:
    first = disruption.pdb_status(budget(minAvailable=1), web_pods(2), NOW - 100)
    pdb = {**budget(minAvailable=1), "status": first}
    again = disruption.pdb_status(pdb, web_pods(2), NOW)
    assert again["conditions"][0]["lastTransitionTime"] == rfc3339(NOW - 100)
    flipped = disruption.pdb_status(pdb, web_pods(1), NOW)
    assert flipped["conditions"][0]["lastTransitionTime"] == rfc3339(NOW)


def test_max_unavailable_counts_missing_pods_of_the_controller() -> None:
    # a Deployment of 3 of which only 2 pods exist (one was evicted): nothing more may go
    status = disruption.pdb_status(budget(maxUnavailable=1), web_pods(2), NOW, scale(3))
    assert (status["expectedPods"], status["disruptionsAllowed"]) == (3, 0)
    # a percentage too is of the controller's scale; an integer minAvailable counts the pods found
    assert disruption.pdb_status(budget(minAvailable="50%"), web_pods(2), NOW, scale(4))["desiredHealthy"] == 2
    assert disruption.pdb_status(budget(minAvailable=1), web_pods(2), NOW, scale(4))["expectedPods"] == 2


def test_two_replica_sets_of_one_deployment_count_its_scale_once() -> None:
    pods = web_pods(2) + [make_pod("new", {"app": "web"}, owner={"kind": "ReplicaSet",
                                                               "metadata": {"name": "web-rs2", "uid": "rs2"}})]
    scales = {"rs-uid": ("deploy-uid", 3), "rs2": ("deploy-uid", 3)}
    assert disruption.pdb_status(budget(maxUnavailable=1), pods, NOW, scales)["expectedPods"] == 3


def test_pods_of_an_unknown_controller_fail_safe() -> None:
    with pytest.raises(disruption.NoController, match='found no controllers for pod "w0"'):
        disruption.pdb_status(budget(maxUnavailable=1), web_pods(2), NOW, {})
    status = disruption.fail_safe_status({**budget(maxUnavailable=1), "status": {"disruptionsAllowed": 1}}, "boom", NOW)
    cond = status["conditions"][0]
    assert status["disruptionsAllowed"] == 0 and (cond["status"], cond["reason"], cond["message"]) == \
        ("False", "SyncFailed", "boom")
    # pods without a controller do not count toward a percentage
    bare = [make_pod("bare", {"app": "web"})]
    assert disruption.pdb_status(budget(maxUnavailable="50%"), bare, NOW, {})["disruptionsAllowed"] == 0


def test_recently_evicted_pods_are_not_healthy_until_the_eviction_expires() -> None:
    pdb = {**budget(minAvailable=1), "status": {"disruptedPods": {"w0": rfc3339(NOW - 30), "w1": rfc3339(NOW - 300),
                                                                  "gone": rfc3339(NOW - 10)}}}
    status = disruption.pdb_status(pdb, web_pods(3), NOW, scale(3))
    assert status["currentHealthy"] == 2 and status["disruptionsAllowed"] == 1
    assert status["disruptedPods"] == {"w0": rfc3339(NOW - 30)}  # expired and deleted pods are dropped
    assert disruption.disrupted_pods(pdb, web_pods(3), NOW)[1] == NOW - 30 + disruption.DELETION_TIMEOUT
    assert "disruptedPods" not in disruption.pdb_status(pdb, web_pods(3), NOW + 200, scale(3))


# ResourceQuota usage

def test_quota_usage_of_pods_skips_finished_ones() -> None:
    pods = [make_pod(f"p{i}", phase=phase) for i, phase in enumerate(["Running", "Pending", "Succeeded", "Failed"])]
    for pod in pods:
        pod["spec"]["containers"][0]["resources"] = {"requests": {"cpu": "250m", "memory": "64Mi"},
                                                     "limits": {"cpu": "1", "memory": "128Mi"}}
    assert resourcequota.pod_usage("pods", pods) == "2"
    assert resourcequota.pod_usage("count/pods", pods) == "4"  # the object count includes finished pods
    assert resourcequota.pod_usage("requests.cpu", pods) == "500m"
    assert resourcequota.pod_usage("cpu", pods) == "500m"
    assert resourcequota.pod_usage("limits.cpu", pods) == "2"
    assert resourcequota.pod_usage("requests.memory", pods) == "128Mi"
    assert resourcequota.pod_usage("limits.memory", pods) == "256Mi"
    assert resourcequota.pod_usage("services", pods) is None


def test_quota_usage_counts_the_largest_init_container() -> None:
    pod = make_pod("p")
    pod["spec"]["containers"][0]["resources"] = {"requests": {"cpu": "100m"}}
    pod["spec"]["initContainers"] = [{"name": "init", "image": "x", "resources": {"requests": {"cpu": "1"}}}]
    assert resourcequota.pod_usage("requests.cpu", [pod]) == "1"
    # a sidecar (restartable init container) runs beside the app containers and every later init container
    pod["spec"]["initContainers"] = [
        {"name": "proxy", "image": "x", "restartPolicy": "Always",
         "resources": {"requests": {"cpu": "200m"}, "limits": {"memory": "64Mi"}}},
        {"name": "migrate", "image": "x", "resources": {"requests": {"cpu": "250m"}}}]
    assert resourcequota.pod_usage("requests.cpu", [pod]) == "450m"  # max(100m+200m, 200m+250m)
    assert resourcequota.pod_usage("limits.memory", [pod]) == "64Mi"
    pod["spec"]["overhead"] = {"cpu": "50m"}
    assert resourcequota.pod_usage("cpu", [pod]) == "500m"


def test_quota_counts_extended_resources_and_names_object_counts() -> None:
    pod = make_pod("p")
    pod["spec"]["containers"][0]["resources"] = {"limits": {"nvidia.com/gpu": "2"}}
    assert resourcequota.pod_usage("requests.nvidia.com/gpu", [pod, pod]) == "4"
    assert resourcequota.pod_usage("requests.storage", [pod]) is None  # the claims' storage, not the pods'
    assert resourcequota.counted_resource("count/deployments.apps") == ("apps", "deployments")
    assert resourcequota.counted_resource("count/widgets.example.com") == ("example.com", "widgets")
    assert resourcequota.counted_resource("count/configmaps") == ("", "configmaps")
    assert resourcequota.counted_resource("secrets") == ("", "secrets")
    assert resourcequota.counted_resource("count/pods") is None and resourcequota.counted_resource("cpu") is None


# TTL after finished

def job(ttl: int | None, condition: str | None, at: float = NOW, deleting: bool = False) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "j", "namespace": "default"}
    if deleting:
        meta["deletionTimestamp"] = rfc3339(at)
    status = {"conditions": [{"type": condition, "status": "True", "lastTransitionTime": rfc3339(at)}]} if condition else {}
    return {"metadata": meta, "spec": {"ttlSecondsAfterFinished": ttl} if ttl is not None else {}, "status": status}


def test_ttl_expiry() -> None:
    assert ttlafterfinished.expires_at(job(100, "Complete")) == NOW + 100
    assert ttlafterfinished.expires_at(job(0, "Failed")) == NOW
    assert ttlafterfinished.expires_at(job(100, None)) is None  # still running
    assert ttlafterfinished.expires_at(job(None, "Complete")) is None  # no TTL: kept forever
    assert ttlafterfinished.expires_at(job(100, "Complete", deleting=True)) is None
    assert ttlafterfinished.expires_at(job(100, "Suspended")) is None


# Pod GC

class _Store:
    def __init__(self, objects: list[dict[str, Any]]) -> None:
        self.store = {f"{o['metadata'].get('namespace', '')}/{o['metadata']['name']}".lstrip("/"): o for o in objects}


class _PodsApi:
    def __init__(self) -> None:
        self.deleted: list[tuple[str, int | None]] = []
        self.failed: list[str] = []

    async def delete(self, name: str, namespace: str | None = None, grace_period_seconds: int | None = None,
                     **_: Any) -> dict[str, Any]:
        self.deleted.append((name, grace_period_seconds))
        return {}

    async def patch(self, name: str, patch: Any, **_: Any) -> dict[str, Any]:
        if patch.get("status", {}).get("phase") == "Failed":
            self.failed.append(name)
        return {}


class _Context:
    """Just enough of ControllerContext: stores instead of informers, a recording pods API."""

    def __init__(self, pods: list[dict[str, Any]], nodes: list[str], threshold: int) -> None:
        self.informers = {"pods": _Store(pods), "nodes": _Store([{"metadata": {"name": n}} for n in nodes])}
        self.pods_api = _PodsApi()
        self.client = self
        self.options = type("Options", (), {"terminated_pod_gc_threshold": threshold})()
        self.clock = NOW
        self.now = lambda: self.clock

    def informer(self, group_version: str, plural: str) -> _Store:
        return self.informers[plural]

    def resource(self, group_version: str, plural: str) -> _PodsApi:
        return self.pods_api

    def events(self, component: str) -> None:
        return None


def gc(ctx: _Context) -> list[tuple[str, int | None]]:
    controller = podgc.PodGCController(ctx)  # type: ignore[arg-type]
    ctx.pods_api.deleted.clear()
    asyncio.run(controller.collect())
    return ctx.pods_api.deleted


def test_pod_gc_deletes_oldest_terminated_pods_beyond_threshold() -> None:
    pods = [make_pod(f"done-{i}", phase="Succeeded", created=f"2020-01-0{i + 1}T00:00:00Z") for i in range(5)]
    pods.append(make_pod("running", created="2019-01-01T00:00:00Z"))
    ctx = _Context(pods, ["n1"], threshold=3)
    assert [name for name, _ in gc(ctx)] == ["done-0", "done-1"]
    assert gc(_Context(pods, ["n1"], threshold=0)) == []  # 0 disables the threshold


def test_pod_gc_force_deletes_pods_of_vanished_nodes_after_quarantine() -> None:
    orphan = make_pod("orphan", node="gone")
    ctx = _Context([orphan, make_pod("fine", node="n1")], ["n1"], threshold=100)
    controller = podgc.PodGCController(ctx)  # type: ignore[arg-type]
    asyncio.run(controller.collect())
    assert ctx.pods_api.deleted == []  # the node may just not be in the cache yet
    ctx.clock += podgc.ORPHAN_QUARANTINE
    asyncio.run(controller.collect())
    assert ctx.pods_api.deleted == [("orphan", 0)]
    assert ctx.pods_api.failed == ["orphan"]  # marked Failed with a DisruptionTarget condition first


def test_pod_gc_force_deletes_unscheduled_terminating_pods() -> None:
    stuck = make_pod("stuck", node=None, deleting=True, phase="Pending", ready=False)
    assert gc(_Context([stuck], [], threshold=100)) == [("stuck", 0)]


def test_pod_gc_force_deletes_terminating_pods_on_out_of_service_nodes() -> None:
    pod = make_pod("t", node="down", deleting=True)
    ctx = _Context([pod], ["down"], threshold=100)
    ctx.informers["nodes"].store["down"].update({
        "spec": {"taints": [{"key": "node.kubernetes.io/out-of-service", "effect": "NoExecute"}]},
        "status": {"conditions": [{"type": "Ready", "status": "False"}]}})
    assert gc(ctx) == [("t", 0)]
    assert ctx.pods_api.failed == ["t"]
    # a Ready node, or a pod not being deleted, is left alone
    ctx.informers["nodes"].store["down"]["status"]["conditions"][0]["status"] = "True"
    assert gc(ctx) == []
    ctx.informers["nodes"].store["down"]["status"]["conditions"][0]["status"] = "Unknown"
    ctx.informers["pods"].store["default/t"]["metadata"].pop("deletionTimestamp")
    assert gc(ctx) == []
