"""StatefulSets and DaemonSets end to end (API server + `kwok control-plane` + a fake kubelet),
watched with the real `kubectl rollout status` of both kubectl versions."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import KUBECTL_137

from ..e2e.harness import Cluster, create_node, namespace, node, wait_for
from .conftest import KUBECTLS, kubectl, kubelet_running


def statefulset(name: str, replicas: int, image: str = "nginx:1.25") -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": name},
            "spec": {"replicas": replicas, "serviceName": name, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"nodeName": "fake-node", "containers": [{"name": "c", "image": image}]}},
                     "volumeClaimTemplates": [{"metadata": {"name": "data"},
                                               "spec": {"accessModes": ["ReadWriteOnce"],
                                                        "resources": {"requests": {"storage": "1Gi"}}}}]}}


def _pods(cluster: Cluster, ns: str) -> dict[str, dict[str, Any]]:
    return {p["metadata"]["name"]: p for p in cluster.api.items(f"/api/v1/namespaces/{ns}/pods")
            if not p["metadata"].get("deletionTimestamp")}


@pytest.mark.parametrize("binary", KUBECTLS)
def test_statefulset_rollout_with_kubectl(control_plane: Cluster, binary: str, tmp_path: Path) -> None:
    api = control_plane.api
    ns = namespace(api, "sts-" + ("v137" if binary == KUBECTL_137 else "v132"))
    base = f"/apis/apps/v1/namespaces/{ns}/statefulsets"
    api.post(base, statefulset("web", 3))
    # OrderedReady: web-1 does not exist before web-0 is Running and Ready
    first = wait_for(lambda: _pods(control_plane, ns), 15, what="web-0")
    assert list(first) == ["web-0"]
    with kubelet_running(control_plane, ns):
        done = kubectl(binary, control_plane, tmp_path, "-n", ns, "rollout", "status", "sts/web", "--timeout=40s")
        assert done.returncode == 0, done.stderr
        assert "roll out complete: 3 new pods have been updated" in done.stdout
        pods = _pods(control_plane, ns)
        assert sorted(pods) == ["web-0", "web-1", "web-2"]
        labels = pods["web-2"]["metadata"]["labels"]
        assert labels["statefulset.kubernetes.io/pod-name"] == "web-2" and labels["apps.kubernetes.io/pod-index"] == "2"
        assert pods["web-2"]["spec"]["hostname"] == "web-2" and pods["web-2"]["spec"]["subdomain"] == "web"
        claims = sorted(c["metadata"]["name"] for c in api.items(f"/api/v1/namespaces/{ns}/persistentvolumeclaims"))
        assert claims == ["data-web-0", "data-web-1", "data-web-2"]
        first_revision = labels["controller-revision-hash"]

        api.patch(f"{base}/web", {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "nginx:1.26"}]}}}})
        done = kubectl(binary, control_plane, tmp_path, "-n", ns, "rollout", "status", "sts/web", "--timeout=40s")
        assert done.returncode == 0, done.stderr
        status = api.get(f"{base}/web")["status"]
        assert status["currentRevision"] == status["updateRevision"] != first_revision
        assert status["updatedReplicas"] == status["readyReplicas"] == 3
        images = {p["spec"]["containers"][0]["image"] for p in _pods(control_plane, ns).values()}
        assert images == {"nginx:1.26"}

        api.patch(f"{base}/web", {"spec": {"replicas": 1}})
        wait_for(lambda: sorted(_pods(control_plane, ns)) == ["web-0"], 20, what="scale down to web-0")
    # claims outlive the pods (retention policy Retain)
    assert len(api.items(f"/api/v1/namespaces/{ns}/persistentvolumeclaims")) == 3


def test_statefulset_records_controller_revisions(control_plane: Cluster, tmp_path: Path) -> None:
    """`kubectl rollout history/undo sts` read ControllerRevisions `<set>-<hash>`, one per template."""
    api = control_plane.api
    ns = namespace(api, "sts-history")
    base = f"/apis/apps/v1/namespaces/{ns}/statefulsets"
    api.post(base, statefulset("db", 1))
    with kubelet_running(control_plane, ns):
        wait_for(lambda: (api.get(f"{base}/db").get("status") or {}).get("readyReplicas") == 1, 20, what="db ready")
        api.patch(f"{base}/db", {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "nginx:1.26"}]}}}})
        status = wait_for(lambda: (s := api.get(f"{base}/db")["status"]).get("observedGeneration") == 2
                          and s.get("updatedReplicas") == 1
                          and s.get("readyReplicas") == 1 and s["currentRevision"] == s["updateRevision"] and s,
                          20, what="db-0 updated and ready")
    revisions = wait_for(lambda: len(r := api.items(f"/apis/apps/v1/namespaces/{ns}/controllerrevisions")) == 2 and r,
                         5, what="controller revisions")
    assert sorted(r["revision"] for r in revisions) == [1, 2]
    latest = max(revisions, key=lambda r: r["revision"])
    first = min(revisions, key=lambda r: r["revision"])["metadata"]["name"]
    assert latest["metadata"]["name"] == status["updateRevision"] == status["currentRevision"]
    assert latest["data"]["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.26"
    assert _pods(control_plane, ns)["db-0"]["metadata"]["labels"]["controller-revision-hash"] == latest["metadata"]["name"]
    for binary in KUBECTLS:
        shown = kubectl(binary, control_plane, tmp_path, "-n", ns, "rollout", "history", "sts/db")
        assert shown.returncode == 0, shown.stderr
        assert [line.split()[0] for line in shown.stdout.splitlines()[2:] if line.strip()] == ["1", "2"]
    with kubelet_running(control_plane, ns):
        undone = kubectl(KUBECTLS[0], control_plane, tmp_path, "-n", ns, "rollout", "undo", "sts/db", "--to-revision=1")
        assert undone.returncode == 0, undone.stderr
        # the first revision comes back renumbered as the latest, and the pod is rolled back to it
        wait_for(lambda: _pods(control_plane, ns).get("db-0", {}).get("spec", {}).get("containers", [{}])[0]
                 .get("image") == "nginx:1.25", 20, what="db-0 rolled back")
    numbers = {r["metadata"]["name"]: r["revision"] for r in api.items(f"/apis/apps/v1/namespaces/{ns}/controllerrevisions")}
    assert numbers == {first: 3, latest["metadata"]["name"]: 2}


def test_parallel_statefulset_creates_all_at_once_and_scales_down_highest_first(control_plane: Cluster) -> None:
    api = control_plane.api
    ns = namespace(api, "sts-parallel")
    body = statefulset("par", 4)
    body["spec"]["podManagementPolicy"] = "Parallel"
    del body["spec"]["volumeClaimTemplates"]
    api.post(f"/apis/apps/v1/namespaces/{ns}/statefulsets", body)
    # no kubelet: nothing becomes Ready, yet Parallel creates every ordinal
    pods = wait_for(lambda: len(p := _pods(control_plane, ns)) == 4 and p, 15, what="4 pods without readiness")
    assert sorted(pods) == ["par-0", "par-1", "par-2", "par-3"]
    with kubelet_running(control_plane, ns):
        api.patch(f"/apis/apps/v1/namespaces/{ns}/statefulsets/par", {"spec": {"replicas": 2}})
        wait_for(lambda: sorted(_pods(control_plane, ns)) == ["par-0", "par-1"], 20, what="par-2 and par-3 gone")


def daemonset(name: str, image: str = "nginx:1.25", tolerate_fake: bool = False) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "c", "image": image}]}
    if tolerate_fake:
        spec["tolerations"] = [{"key": "kwok.x-k8s.io/node", "operator": "Exists", "effect": "NoSchedule"}]
    return {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": name},
            "spec": {"selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": spec}}}


@pytest.fixture(scope="module")
def ds_nodes(control_plane: Cluster) -> list[str]:
    """Two plain nodes, a kwok fake node (tainted as KWOK's docs do) and a cordoned node."""
    create_node(control_plane.api, node("ds-a"))
    create_node(control_plane.api, node("ds-b"))
    create_node(control_plane.api, node("ds-fake", taints=[{"key": "kwok.x-k8s.io/node", "value": "fake",
                                                           "effect": "NoSchedule"}]))
    create_node(control_plane.api, node("ds-cordoned", unschedulable=True,
                                        taints=[{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]))
    return ["ds-a", "ds-b", "ds-cordoned", "ds-fake"]


def _placement(cluster: Cluster, ns: str) -> dict[str, str]:
    """node -> image of the live daemon pods bound there."""
    return {p["spec"]["nodeName"]: p["spec"]["containers"][0]["image"] for p in _pods(cluster, ns).values()
            if p["spec"].get("nodeName")}


@pytest.mark.parametrize("binary", KUBECTLS)
def test_daemonset_places_one_pod_per_eligible_node_and_rolls(control_plane: Cluster, ds_nodes: list[str],
                                                              binary: str, tmp_path: Path) -> None:
    api = control_plane.api
    ns = namespace(api, "ds-" + ("v137" if binary == KUBECTL_137 else "v132"))
    base = f"/apis/apps/v1/namespaces/{ns}/daemonsets"
    api.post(base, daemonset("agent"))
    with kubelet_running(control_plane, ns):
        done = kubectl(binary, control_plane, tmp_path, "-n", ns, "rollout", "status", "ds/agent", "--timeout=40s")
        assert done.returncode == 0, done.stderr
        assert 'daemon set "agent" successfully rolled out' in done.stdout
        # the cordoned node is tolerated automatically, the fake kwok node is not
        assert sorted(_placement(control_plane, ns)) == ["ds-a", "ds-b", "ds-cordoned"]
        pod = next(iter(_pods(control_plane, ns).values()))
        terms = pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        assert terms["nodeSelectorTerms"][0]["matchFields"][0]["key"] == "metadata.name"
        keys = {t.get("key") for t in pod["spec"]["tolerations"]}
        assert {"node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable",
                "node.kubernetes.io/unschedulable", "node.kubernetes.io/disk-pressure"} <= keys
        status = api.get(f"{base}/agent")["status"]
        assert status["desiredNumberScheduled"] == status["numberReady"] == status["updatedNumberScheduled"] == 3

        api.patch(f"{base}/agent", {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "nginx:1.26"}]}}}})
        done = kubectl(binary, control_plane, tmp_path, "-n", ns, "rollout", "status", "ds/agent", "--timeout=40s")
        assert done.returncode == 0, done.stderr
        assert set(_placement(control_plane, ns).values()) == {"nginx:1.26"}
        assert len(_placement(control_plane, ns)) == 3

        # tolerating the fake taint extends the set to the kwok node
        api.patch(f"{base}/agent", {"spec": {"template": {"spec": {"tolerations": [
            {"key": "kwok.x-k8s.io/node", "operator": "Exists", "effect": "NoSchedule"}]}}}})
        wait_for(lambda: sorted(_placement(control_plane, ns)) == ds_nodes, 20, what="pod on the fake node")
        def listed() -> list[str] | None:
            row = kubectl(binary, control_plane, tmp_path, "-n", ns, "get", "ds", "agent", "--no-headers").stdout.split()
            return row if row[1:6] == ["4", "4", "4", "4", "4"] else None
        wait_for(listed, 15, what="DESIRED CURRENT READY UP-TO-DATE AVAILABLE all 4")


def test_daemonset_node_selector_limits_nodes(control_plane: Cluster, ds_nodes: list[str]) -> None:
    api = control_plane.api
    ns = namespace(api, "ds-selector")
    body = daemonset("only-a")
    body["spec"]["template"]["spec"]["nodeSelector"] = {"kubernetes.io/hostname": "ds-a"}
    api.post(f"/apis/apps/v1/namespaces/{ns}/daemonsets", body)
    with kubelet_running(control_plane, ns):
        wait_for(lambda: _placement(control_plane, ns) == {"ds-a": "nginx:1.25"}, 20, what="pod only on ds-a")
        status = wait_for(lambda: (s := api.get(f"/apis/apps/v1/namespaces/{ns}/daemonsets/only-a").get("status")
                                   or {}).get("numberAvailable") == 1 and s, 20, what="available 1")
    assert status["desiredNumberScheduled"] == 1 and status["numberMisscheduled"] == 0


def test_daemonset_follows_nodes_joining_and_leaving(control_plane: Cluster, ds_nodes: list[str]) -> None:
    api = control_plane.api
    ns = namespace(api, "ds-follow")
    body = daemonset("edge")
    body["spec"]["template"]["spec"]["nodeSelector"] = {"role": "edge"}
    api.post(f"/apis/apps/v1/namespaces/{ns}/daemonsets", body)
    with kubelet_running(control_plane, ns):
        create_node(api, node("edge-1"))
        api.patch("/api/v1/nodes/edge-1", {"metadata": {"labels": {"role": "edge"}}})
        wait_for(lambda: sorted(_placement(control_plane, ns)) == ["edge-1"], 20, what="pod on the new edge node")
        api.patch("/api/v1/nodes/ds-b", {"metadata": {"labels": {"role": "edge"}}})
        wait_for(lambda: sorted(_placement(control_plane, ns)) == ["ds-b", "edge-1"], 20, what="pod on relabelled node")
        api.patch("/api/v1/nodes/edge-1", {"metadata": {"labels": {"role": None}}})
        wait_for(lambda: sorted(_placement(control_plane, ns)) == ["ds-b"], 20, what="pod gone from unlabelled node")
    api.patch("/api/v1/nodes/ds-b", {"metadata": {"labels": {"role": None}}})


def test_statefulset_claims_deleted_with_the_set_when_asked(control_plane: Cluster) -> None:
    api = control_plane.api
    ns = namespace(api, "sts-retention")
    body = statefulset("cache", 1)
    body["spec"]["persistentVolumeClaimRetentionPolicy"] = {"whenDeleted": "Delete", "whenScaled": "Retain"}
    api.post(f"/apis/apps/v1/namespaces/{ns}/statefulsets", body)
    claim = wait_for(lambda: api.items(f"/api/v1/namespaces/{ns}/persistentvolumeclaims"), 15, what="claim")[0]
    assert [r["kind"] for r in claim["metadata"].get("ownerReferences") or ()] == ["StatefulSet"]
    assert claim["metadata"]["ownerReferences"][0]["uid"] == api.get(
        f"/apis/apps/v1/namespaces/{ns}/statefulsets/cache")["metadata"]["uid"]
    # the garbage collector deletes the claim with the set
    api.delete(f"/apis/apps/v1/namespaces/{ns}/statefulsets/cache")
    wait_for(lambda: not api.items(f"/api/v1/namespaces/{ns}/persistentvolumeclaims"), 20, what="claim deleted")


def test_statefulset_partition_and_claims_of_scaled_down_pods(control_plane: Cluster, tmp_path: Path) -> None:
    """A partitioned rollout stops at the partition (as `kubectl rollout status` reports), and
    whenScaled=Delete hands a scaled-down pod's claim to the pod, so both go."""
    api = control_plane.api
    ns = namespace(api, "sts-partition")
    base = f"/apis/apps/v1/namespaces/{ns}/statefulsets"
    body = statefulset("kv", 3)
    body["spec"]["ordinals"] = {"start": 1}
    body["spec"]["persistentVolumeClaimRetentionPolicy"] = {"whenDeleted": "Retain", "whenScaled": "Delete"}
    api.post(base, body)
    with kubelet_running(control_plane, ns):
        wait_for(lambda: sorted(_pods(control_plane, ns)) == ["kv-1", "kv-2", "kv-3"], 20, what="kv-1..kv-3")
        api.patch(f"{base}/kv", {"spec": {"updateStrategy": {"rollingUpdate": {"partition": 1}},
                                          "template": {"spec": {"containers": [{"name": "c", "image": "nginx:1.26"}]}}}})
        done = kubectl(KUBECTLS[0], control_plane, tmp_path, "-n", ns, "rollout", "status", "sts/kv", "--timeout=40s")
        assert done.returncode == 0, done.stderr
        assert "partitioned roll out complete: 2 new pods have been updated" in done.stdout
        images = {n: p["spec"]["containers"][0]["image"] for n, p in _pods(control_plane, ns).items()}
        assert images == {"kv-1": "nginx:1.25", "kv-2": "nginx:1.26", "kv-3": "nginx:1.26"}  # index 0 stays
        status = api.get(f"{base}/kv")["status"]
        assert status["currentRevision"] != status["updateRevision"] and status["updatedReplicas"] == 2
        api.patch(f"{base}/kv", {"spec": {"replicas": 2}})
        wait_for(lambda: sorted(_pods(control_plane, ns)) == ["kv-1", "kv-2"], 20, what="kv-3 gone")
        def claims() -> list[str]:
            return sorted(c["metadata"]["name"] for c in api.items(f"/api/v1/namespaces/{ns}/persistentvolumeclaims"))
        wait_for(lambda: claims() == ["data-kv-1", "data-kv-2"], 20, what="the claim of kv-3 deleted with it")


def test_daemonset_surges_and_replaces_a_failed_pod(control_plane: Cluster, ds_nodes: list[str], tmp_path: Path) -> None:
    api = control_plane.api
    ns = namespace(api, "ds-surge")
    base = f"/apis/apps/v1/namespaces/{ns}/daemonsets"
    body = daemonset("surge")
    body["spec"]["updateStrategy"] = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    api.post(base, body)

    def all_available() -> int:
        status = api.get(f"{base}/surge").get("status") or {}
        desired = status.get("desiredNumberScheduled") or 0
        return desired if desired and status.get("numberAvailable") == desired == len(_placement(control_plane, ns)) \
            else 0
    with kubelet_running(control_plane, ns):
        nodes = wait_for(all_available, 20, what="a daemon pod on every eligible node")
        api.patch(f"{base}/surge", {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "nginx:1.26"}]}}}})
        done = kubectl(KUBECTLS[-1], control_plane, tmp_path, "-n", ns, "rollout", "status", "ds/surge", "--timeout=40s")
        assert done.returncode == 0, done.stderr
        assert set(_placement(control_plane, ns).values()) == {"nginx:1.26"}
    for binary in KUBECTLS:
        shown = kubectl(binary, control_plane, tmp_path, "-n", ns, "rollout", "history", "ds/surge")
        assert shown.returncode == 0, shown.stderr
        assert [line.split()[0] for line in shown.stdout.splitlines()[2:] if line.strip()] == ["1", "2"]
    revisions = {r["revision"]: r for r in api.items(f"/apis/apps/v1/namespaces/{ns}/controllerrevisions")}
    hashes = {p["metadata"]["labels"]["controller-revision-hash"] for p in _pods(control_plane, ns).values()}
    assert hashes == {revisions[2]["metadata"]["labels"]["controller-revision-hash"]}
    assert revisions[2]["metadata"]["name"] == "surge-" + hashes.pop()
    # one old pod per node was replaced, none twice
    def deletions() -> int:
        return sum(e.get("count", 1) for e in api.items(f"/api/v1/namespaces/{ns}/events")
                   if e["reason"] == "SuccessfulDelete")
    wait_for(lambda: deletions() >= nodes, 5, what="delete events")
    time.sleep(0.5)  # a late duplicate would show up here
    assert deletions() == nodes
    victim = next(iter(_pods(control_plane, ns).values()))
    api.patch(f"/api/v1/namespaces/{ns}/pods/{victim['metadata']['name']}/status", {"status": {"phase": "Failed"}})
    with kubelet_running(control_plane, ns):
        wait_for(lambda: victim["metadata"]["name"] not in _pods(control_plane, ns)
                 and len(_placement(control_plane, ns)) == nodes, 20, what="the failed pod replaced")
    reasons = {e["reason"] for e in api.items(f"/api/v1/namespaces/{ns}/events")}
    assert "FailedDaemonPod" in reasons
    with kubelet_running(control_plane, ns):
        undone = kubectl(KUBECTLS[0], control_plane, tmp_path, "-n", ns, "rollout", "undo", "ds/surge", "--to-revision=1")
        assert undone.returncode == 0, undone.stderr
        wait_for(lambda: set(_placement(control_plane, ns).values()) == {"nginx:1.25"}, 30, what="rolled back")
    numbers = {r["metadata"]["name"]: r["revision"] for r in api.items(f"/apis/apps/v1/namespaces/{ns}/controllerrevisions")}
    assert numbers == {revisions[1]["metadata"]["name"]: 3, revisions[2]["metadata"]["name"]: 2}
