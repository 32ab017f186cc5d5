"""Where a DaemonSet runs pods and how it rolls them (pure logic)."""

from __future__ import annotations

from typing import Any

import pytest

from kwok.controlplane.controllers import daemonset_logic as logic

from .objects import NOW, make_pod

FAKE_TAINT = {"key": "kwok.x-k8s.io/node", "value": "fake", "effect": "NoSchedule"}


def ds(pod_spec: dict[str, Any] | None = None, max_unavailable: Any = 1) -> dict[str, Any]:
    spec = {"containers": [{"name": "c", "image": "agent:1"}], **(pod_spec or {})}
    return {"metadata": {"name": "agent", "namespace": "default", "uid": "ds-uid", "generation": 2},
            "spec": {"selector": {"matchLabels": {"app": "agent"}},
                     "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": max_unavailable}},
                     "template": {"metadata": {"labels": {"app": "agent"}}, "spec": spec}}}


def make_node(name: str, taints: list[dict[str, Any]] | None = None, labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
            "spec": {"taints": taints or []}}


def daemon_pod(d: dict[str, Any], node: str, current: bool = True, **kw: Any) -> dict[str, Any]:
    revision = logic.template_hash(d) if current else "old"
    return make_pod(f"agent-{node}", {"app": "agent"}, node=node, owner={"kind": "DaemonSet", **d},
                    extra_labels={logic.REVISION_LABEL: revision}, **kw)


@pytest.mark.parametrize(("taint", "pod_spec", "eligible"), [
    (FAKE_TAINT, {}, False),  # KWOK's fake nodes need an explicit toleration
    (FAKE_TAINT, {"tolerations": [{"key": "kwok.x-k8s.io/node", "operator": "Exists"}]}, True),
    ({"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}, {}, True),
    ({"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"}, {}, True),
    ({"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}, {}, True),
    ({"key": "node.kubernetes.io/memory-pressure", "effect": "NoSchedule"}, {}, True),
    ({"key": "node.kubernetes.io/network-unavailable", "effect": "NoSchedule"}, {}, False),
    ({"key": "node.kubernetes.io/network-unavailable", "effect": "NoSchedule"}, {"hostNetwork": True}, True),
    ({"key": "dedicated", "value": "gpu", "effect": "NoExecute"}, {}, False),
    ({"key": "dedicated", "value": "gpu", "effect": "PreferNoSchedule"}, {}, True),
])
def test_taints_and_automatic_tolerations(taint: dict[str, Any], pod_spec: dict[str, Any], eligible: bool) -> None:
    assert logic.eligible(ds(pod_spec), make_node("n", [taint])) is eligible


def test_node_selector_and_required_affinity_pick_nodes() -> None:
    by_selector = ds({"nodeSelector": {"disk": "ssd"}})
    assert logic.eligible(by_selector, make_node("n", labels={"disk": "ssd"}))
    assert not logic.eligible(by_selector, make_node("n", labels={"disk": "hdd"}))
    affinity = {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a", "b"]}]}]}}}}
    assert logic.eligible(ds(affinity), make_node("n", labels={"zone": "b"}))
    assert not logic.eligible(ds(affinity), make_node("n", labels={"zone": "c"}))


def test_pod_is_pinned_by_node_affinity_and_gets_daemon_tolerations_once() -> None:
    own = {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"}
    spec = logic.pod_spec_for(ds({"tolerations": [own]}), "n7")
    required = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert required == {"nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In",
                                                                 "values": ["n7"]}]}]}
    assert "nodeName" not in spec  # the scheduler binds it
    keys = [t["key"] for t in spec["tolerations"]]
    assert keys.count("node.kubernetes.io/not-ready") == 1
    assert {"node.kubernetes.io/unreachable", "node.kubernetes.io/disk-pressure", "node.kubernetes.io/memory-pressure",
            "node.kubernetes.io/pid-pressure", "node.kubernetes.io/unschedulable"} <= set(keys)


def test_plan_creates_on_missing_nodes_and_deletes_misplaced_and_duplicate_pods() -> None:
    d = ds()
    nodes = [make_node("a"), make_node("b"), make_node("c"), make_node("fake", [FAKE_TAINT])]
    older = daemon_pod(d, "a", created="2020-01-01T00:00:00Z")
    newer = daemon_pod(d, "a", created="2021-01-01T00:00:00Z")
    newer["metadata"]["name"] = "agent-a-2"
    misplaced = daemon_pod(d, "fake")
    step = logic.plan(d, nodes, [older, newer, misplaced], NOW)
    assert sorted(step.create_on) == ["b", "c"]
    assert sorted(p["metadata"]["name"] for p in step.delete) == ["agent-a-2", "agent-fake"]
    assert step.status["desiredNumberScheduled"] == 3
    assert step.status["numberMisscheduled"] == 1
    assert step.status["observedGeneration"] == 2


def test_rolling_update_replaces_at_most_max_unavailable() -> None:
    d = ds(max_unavailable=1)
    nodes = [make_node(n) for n in "abc"]
    old = [daemon_pod(d, n, current=False) for n in "abc"]
    step = logic.plan(d, nodes, old, NOW)
    assert len(step.delete) == 1 and not step.create_on
    # while one node has no available pod, no further old pod goes
    step = logic.plan(d, nodes, old[1:], NOW)
    assert step.create_on == ["a"] and step.delete == []
    step = logic.plan(ds(max_unavailable="100%"), nodes, [daemon_pod(ds(max_unavailable="100%"), n, current=False)
                                                          for n in "abc"], NOW)
    assert len(step.delete) == 3


def test_on_delete_never_replaces_pods() -> None:
    d = ds()
    d["spec"]["updateStrategy"] = {"type": "OnDelete"}
    nodes = [make_node(n) for n in "ab"]
    step = logic.plan(d, nodes, [daemon_pod(d, n, current=False) for n in "ab"], NOW)
    assert step.delete == [] and step.create_on == []
    assert step.status["updatedNumberScheduled"] == 0 and step.status["numberReady"] == 2


def test_status_counts() -> None:
    d = ds()
    nodes = [make_node(n) for n in "abc"]
    pods = [daemon_pod(d, "a"), daemon_pod(d, "b", ready=False)]
    status = logic.plan(d, nodes, pods, NOW).status
    assert (status["desiredNumberScheduled"], status["currentNumberScheduled"], status["numberReady"],
            status["numberAvailable"], status["updatedNumberScheduled"]) == (3, 2, 1, 1, 2)
    assert status["numberUnavailable"] == 2


def test_failed_daemon_pod_is_deleted_and_replaced() -> None:
    d = ds()
    failed = daemon_pod(d, "a", phase="Failed", ready=False)
    step = logic.plan(d, [make_node("a")], [failed], NOW)
    assert [p["metadata"]["name"] for p in step.delete] == ["agent-a"] and step.create_on == []
    assert [(p["metadata"]["name"], node) for p, node in step.failed] == [("agent-a", "a")]
    # the replacement comes once the failed pod is gone, not while it is being deleted
    failed["metadata"]["deletionTimestamp"] = "2020-01-01T00:00:00Z"
    assert logic.plan(d, [make_node("a")], [failed], NOW).create_on == ["a"]
    terminating = daemon_pod(d, "a", deleting=True)
    assert logic.plan(d, [make_node("a")], [terminating], NOW).create_on == []


def test_max_surge_creates_the_new_pod_before_deleting_the_old() -> None:
    d = ds()
    d["spec"]["updateStrategy"]["rollingUpdate"] = {"maxUnavailable": 0, "maxSurge": 1}
    nodes = [make_node("a"), make_node("b")]
    step = logic.plan(d, nodes, [daemon_pod(d, n, current=False) for n in "ab"], NOW)
    assert step.delete == [] and step.create_on == ["a"]
    # the new pod on a is not ready yet: both of a's pods stay, b waits for its turn
    new_a = daemon_pod(d, "a", ready=False)
    new_a["metadata"]["name"] = "agent-a-new"
    step = logic.plan(d, nodes, [daemon_pod(d, "a", current=False), new_a, daemon_pod(d, "b", current=False)], NOW)
    assert step.delete == [] and step.create_on == []
    # once it is available the old pod of a goes
    new_a["status"]["conditions"][0]["status"] = "True"
    step = logic.plan(d, nodes, [daemon_pod(d, "a", current=False), new_a, daemon_pod(d, "b", current=False)], NOW)
    assert [p["metadata"]["name"] for p in step.delete] == ["agent-a"]
    assert logic.surge_and_unavailable(d, 10) == (1, 0)
    d["spec"]["updateStrategy"]["rollingUpdate"] = {"maxUnavailable": 0, "maxSurge": 0}
    assert logic.surge_and_unavailable(d, 10) == (0, 1)  # both 0 would be impossible: maxUnavailable 1
    d["spec"]["updateStrategy"]["rollingUpdate"] = {"maxUnavailable": 0, "maxSurge": "25%"}
    assert logic.surge_and_unavailable(d, 10) == (3, 0)  # rounded up
