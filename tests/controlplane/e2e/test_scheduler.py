"""The scheduler end to end: binding, PodScheduled/FailedScheduling, retries, preemption."""

from __future__ import annotations

from typing import Any

from .harness import Cluster, create_node, namespace, node, wait_for


def pod(name: str, cpu: str = "100m", **spec: Any) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "c", "image": "busybox", "resources": {"requests": {"cpu": cpu}}}], **spec}}


def _condition(p: dict, type_: str) -> dict:
    return next((c for c in (p.get("status") or {}).get("conditions") or () if c["type"] == type_), {})


def test_scheduling_binding_failure_and_retry(control_plane: Cluster) -> None:
    api = control_plane.api
    ns = namespace(api, "sched")
    taint = [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]
    create_node(api, node("sched-master", taints=taint))
    for i in range(2):
        create_node(api, node(f"sched-worker-{i}", cpu="1"))
    api.post(f"/api/v1/namespaces/{ns}/pods", pod("small", nodeSelector={"type": "kwok"}))
    bound = wait_for(lambda: (p := api.get(f"/api/v1/namespaces/{ns}/pods/small"))["spec"].get("nodeName") and p)
    assert bound["spec"]["nodeName"].startswith("sched-worker-")
    assert _condition(bound, "PodScheduled")["status"] == "True"
    events = wait_for(lambda: [e for e in api.items(f"/api/v1/namespaces/{ns}/events") if e["reason"] == "Scheduled"])
    assert events[0]["message"] == f"Successfully assigned {ns}/small to {bound['spec']['nodeName']}"
    assert events[0]["source"]["component"] == "default-scheduler"

    api.post(f"/api/v1/namespaces/{ns}/pods", pod("big", cpu="2", nodeSelector={"type": "kwok"}))
    pending = wait_for(lambda: (p := api.get(f"/api/v1/namespaces/{ns}/pods/big"))
                       and _condition(p, "PodScheduled").get("reason") == "Unschedulable" and p)
    nodes = len(api.items("/api/v1/nodes"))
    # every other node in the cluster (other tests' too) fails on the selector or the taint
    message = _condition(pending, "PodScheduled")["message"]
    assert message.startswith(f"0/{nodes} nodes are available: ")
    assert "1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }" in message
    assert "2 Insufficient cpu" in message
    assert message.endswith(" No preemption victims found for incoming pod.") or "preemption: " in message
    failed = wait_for(lambda: [e for e in api.items(f"/api/v1/namespaces/{ns}/events")
                               if e["reason"] == "FailedScheduling" and e["involvedObject"]["name"] == "big"])
    assert failed[0]["type"] == "Warning" and failed[0]["message"] == message

    create_node(api, node("sched-large", cpu="8"))  # the cluster changed: the pod is retried
    bound = wait_for(lambda: (p := api.get(f"/api/v1/namespaces/{ns}/pods/big"))["spec"].get("nodeName") and p, 20)
    assert bound["spec"]["nodeName"] == "sched-large"


def test_pods_for_other_schedulers_are_left_alone(control_plane: Cluster) -> None:
    api = control_plane.api
    ns = namespace(api, "other-sched")
    create_node(api, node("other-sched-node"))
    api.post(f"/api/v1/namespaces/{ns}/pods", pod("mine"))
    api.post(f"/api/v1/namespaces/{ns}/pods", pod("theirs", schedulerName="my-scheduler"))
    wait_for(lambda: api.get(f"/api/v1/namespaces/{ns}/pods/mine")["spec"].get("nodeName"))
    theirs = api.get(f"/api/v1/namespaces/{ns}/pods/theirs")
    assert not theirs["spec"].get("nodeName") and not _condition(theirs, "PodScheduled")


def test_high_priority_pod_preempts_lower_priority(control_plane: Cluster) -> None:
    api = control_plane.api
    ns = namespace(api, "preempt")
    label = {"preempt-test": "yes"}
    body = node("preempt-node", cpu="2")
    body["metadata"]["labels"].update(label)
    create_node(api, body)
    for name, value in (("preempt-low", 1), ("preempt-high", 1000)):
        api.post("/apis/scheduling.k8s.io/v1/priorityclasses", {
            "apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": name}, "value": value})
    api.post(f"/api/v1/namespaces/{ns}/pods", pod("low", cpu="1500m", priorityClassName="preempt-low",
                                                 nodeSelector=label))
    wait_for(lambda: api.get(f"/api/v1/namespaces/{ns}/pods/low")["spec"].get("nodeName"))
    api.post(f"/api/v1/namespaces/{ns}/pods", pod("high", cpu="1", priorityClassName="preempt-high", nodeSelector=label))
    victim = wait_for(lambda: (p := api.get(f"/api/v1/namespaces/{ns}/pods/low"))["metadata"].get("deletionTimestamp")
                      and p, 20, what="victim deleted")
    assert _condition(victim, "DisruptionTarget")["reason"] == "PreemptionByScheduler"
    high = api.get(f"/api/v1/namespaces/{ns}/pods/high")
    assert high["status"].get("nominatedNodeName") == "preempt-node" or high["spec"].get("nodeName") == "preempt-node"
    preempted = wait_for(lambda: [e for e in api.items(f"/api/v1/namespaces/{ns}/events") if e["reason"] == "Preempted"])
    assert preempted[0]["message"] == f"Preempted by pod {high['metadata']['uid']} on node preempt-node"


def test_metrics_and_readyz(control_plane: Cluster) -> None:
    import re
    import urllib.request

    log = control_plane.components[0].output()
    port = int(re.search(r"serving healthz and metrics on [\d.]+:(\d+)", log).group(1))  # type: ignore[union-attr]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as resp:
        assert resp.read() == b"ok"
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    scheduled = re.search(r'scheduler_schedule_attempts_total\{profile="default-scheduler",result="scheduled"\} (\S+)',
                          text)
    assert scheduled and float(scheduled.group(1)) >= 1


def test_limit_range_defaults_decide_how_many_pods_fit(control_plane: Cluster) -> None:
    """KWOK's LimitRange example: pods without requests get the namespace defaults, and the
    scheduler counts those."""
    api = control_plane.api
    ns = namespace(api, "limits")
    label = {"limits-test": "yes"}
    body = node("limits-node", cpu="2")
    body["metadata"]["labels"].update(label)
    create_node(api, body)
    api.post(f"/api/v1/namespaces/{ns}/limitranges", {"metadata": {"name": "defaults"}, "spec": {"limits": [
        {"type": "Container", "defaultRequest": {"cpu": "1"}, "default": {"cpu": "1"}}]}})
    for i in range(3):
        api.post(f"/api/v1/namespaces/{ns}/pods", {"metadata": {"name": f"p{i}"}, "spec": {
            "nodeSelector": label, "containers": [{"name": "c", "image": "busybox"}]}})
    assert api.get(f"/api/v1/namespaces/{ns}/pods/p0")["spec"]["containers"][0]["resources"]["requests"] == {"cpu": "1"}

    def outcome() -> tuple[int, list[str]] | None:
        pods = api.items(f"/api/v1/namespaces/{ns}/pods")
        bound = sum(1 for p in pods if p["spec"].get("nodeName"))
        pending = [_condition(p, "PodScheduled").get("message", "") for p in pods if not p["spec"].get("nodeName")]
        return (bound, pending) if bound == 2 and pending and pending[0] else None

    bound, pending = wait_for(outcome, 20, what="two bound, one pending")
    assert "1 Insufficient cpu" in pending[0]
