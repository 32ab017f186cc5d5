"""Workload controllers end to end: real API server + `kwok control-plane` process."""

from __future__ import annotations

import copy
from typing import Any

from .harness import ApiError, Cluster, FakeKubelet, namespace, wait_for


def deployment(name: str, replicas: int, image: str = "nginx:1.25", strategy: dict[str, Any] | None = None) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "strategy": strategy or {"type": "RollingUpdate"},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"nodeName": "fake-node", "containers": [{"name": "c", "image": image}]}}}}


def test_default_service_account_in_new_namespace(control_plane: Cluster) -> None:
    ns = namespace(control_plane.api, "sa-test")
    wait_for(lambda: control_plane.api.get(f"/api/v1/namespaces/{ns}/serviceaccounts/default"), what="default SA")
    control_plane.api.delete(f"/api/v1/namespaces/{ns}/serviceaccounts/default")
    created_again = wait_for(lambda: control_plane.api.get(f"/api/v1/namespaces/{ns}/serviceaccounts/default"))
    assert created_again["metadata"]["name"] == "default"


def _running(api: Any, kubelet: FakeKubelet, ns: str, count: int) -> list[dict]:
    def check() -> list[dict] | None:
        kubelet.step(ns)
        pods = [p for p in api.items(f"/api/v1/namespaces/{ns}/pods") if not p["metadata"].get("deletionTimestamp")]
        ready = [p for p in pods if (p.get("status") or {}).get("phase") == "Running"]
        return ready if len(pods) == count and len(ready) == count else None
    if count == 0:
        def gone() -> bool:
            kubelet.step(ns)
            return not api.items(f"/api/v1/namespaces/{ns}/pods")
        wait_for(gone, 20, what="no pods")
        return []
    return wait_for(check, 20, what=f"{count} running pods")


def _deployment_status(api: Any, ns: str, name: str) -> dict:
    return api.get(f"/apis/apps/v1/namespaces/{ns}/deployments/{name}").get("status") or {}


def test_deployment_scaled_3_10_0(control_plane: Cluster) -> None:
    api, kubelet = control_plane.api, FakeKubelet(control_plane.api)
    ns = namespace(api, "scale")
    api.post(f"/apis/apps/v1/namespaces/{ns}/deployments", deployment("web", 3))
    for replicas in (3, 10, 0):
        api.patch(f"/apis/apps/v1/namespaces/{ns}/deployments/web", {"spec": {"replicas": replicas}})
        _running(api, kubelet, ns, replicas)
        status = wait_for(lambda r=replicas: (s := _deployment_status(api, ns, "web")).get("availableReplicas", 0) == r
                          and s.get("replicas", 0) == r and s, 20, what=f"deployment status {replicas}")
        assert status.get("updatedReplicas", 0) == replicas
        available = next(c for c in status["conditions"] if c["type"] == "Available")
        assert available["status"] == "True" and available["reason"] == "MinimumReplicasAvailable"
    sets = api.items(f"/apis/apps/v1/namespaces/{ns}/replicasets")
    assert len(sets) == 1 and sets[0]["spec"]["replicas"] == 0
    assert sets[0]["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"


def test_rolling_image_update_respects_surge_and_completes(control_plane: Cluster) -> None:
    api, kubelet = control_plane.api, FakeKubelet(control_plane.api)
    ns = namespace(api, "rolling")
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    api.post(f"/apis/apps/v1/namespaces/{ns}/deployments", deployment("app", 4, strategy=strategy))
    _running(api, kubelet, ns, 4)
    wait_for(lambda: _deployment_status(api, ns, "app").get("availableReplicas") == 4, 20)
    api.patch(f"/apis/apps/v1/namespaces/{ns}/deployments/app",
              {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "nginx:1.26"}]}}}})
    peak = 0

    def finished() -> bool:
        nonlocal peak
        kubelet.step(ns)
        pods = [p for p in api.items(f"/api/v1/namespaces/{ns}/pods") if not p["metadata"].get("deletionTimestamp")]
        peak = max(peak, len(pods))
        d = api.get(f"/apis/apps/v1/namespaces/{ns}/deployments/app")
        status = d.get("status") or {}
        progressing = next((c for c in status.get("conditions") or () if c["type"] == "Progressing"), {})
        return (status.get("observedGeneration", 0) >= d["metadata"]["generation"]
                and status.get("updatedReplicas") == 4 and status.get("replicas") == 4
                and status.get("availableReplicas") == 4 and progressing.get("reason") == "NewReplicaSetAvailable")

    wait_for(finished, 30, interval=0.05, what="rollout complete")
    assert peak <= 5  # maxSurge 1 over 4 replicas
    sets = {rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]: rs
            for rs in api.items(f"/apis/apps/v1/namespaces/{ns}/replicasets")}
    assert sets["1"]["spec"]["replicas"] == 0 and sets["2"]["spec"]["replicas"] == 4
    images = {p["spec"]["containers"][0]["image"] for p in api.items(f"/api/v1/namespaces/{ns}/pods")
              if not p["metadata"].get("deletionTimestamp")}
    assert images == {"nginx:1.26"}
    events = api.items(f"/api/v1/namespaces/{ns}/events")
    scaled = [e["message"] for e in events if e["reason"] == "ScalingReplicaSet"]
    assert any(m.startswith("Scaled up replica set app-") and m.endswith("from 0 to 1") for m in scaled), scaled


def test_replica_set_foreground_delete_removes_pods_first(control_plane: Cluster) -> None:
    api = control_plane.api
    ns = namespace(api, "foreground")
    rs = copy.deepcopy(deployment("fg", 3))
    rs.update(kind="ReplicaSet")
    del rs["spec"]["strategy"]
    rs["spec"]["template"]["spec"].pop("nodeName")
    api.post(f"/apis/apps/v1/namespaces/{ns}/replicasets", rs)
    wait_for(lambda: len(api.items(f"/api/v1/namespaces/{ns}/pods")) == 3, what="3 pods")
    api.delete(f"/apis/apps/v1/namespaces/{ns}/replicasets/fg",
               {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Foreground"})

    def gone() -> bool:
        try:
            api.get(f"/apis/apps/v1/namespaces/{ns}/replicasets/fg")
        except ApiError as err:
            return err.code == 404
        return False

    wait_for(gone, 20, what="replicaset deleted in the foreground")
    assert api.items(f"/api/v1/namespaces/{ns}/pods") == []


def test_background_delete_of_deployment_collects_everything(control_plane: Cluster) -> None:
    api = control_plane.api
    ns = namespace(api, "background")
    d = deployment("bg", 2)
    d["spec"]["template"]["spec"].pop("nodeName")
    api.post(f"/apis/apps/v1/namespaces/{ns}/deployments", d)
    wait_for(lambda: len(api.items(f"/api/v1/namespaces/{ns}/pods")) == 2, what="2 pods")
    api.delete(f"/apis/apps/v1/namespaces/{ns}/deployments/bg")
    wait_for(lambda: not api.items(f"/apis/apps/v1/namespaces/{ns}/replicasets")
             and not api.items(f"/api/v1/namespaces/{ns}/pods"), 20, what="garbage collected")


def test_namespace_delete_removes_content_then_namespace(control_plane: Cluster) -> None:
    api = control_plane.api
    ns = namespace(api, "doomed")
    api.post(f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "cm"}, "data": {"a": "b"}})
    api.post(f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "held", "finalizers": ["example.com/hold"]}})
    api.delete(f"/api/v1/namespaces/{ns}")

    def stuck_on_finalizer() -> Any:
        status = api.get(f"/api/v1/namespaces/{ns}").get("status") or {}
        conditions = {c["type"]: c for c in status.get("conditions") or ()}
        remaining = conditions.get("NamespaceFinalizersRemaining", {})
        return status.get("phase") == "Terminating" and remaining.get("status") == "True" and remaining

    remaining = wait_for(stuck_on_finalizer, 20, what="finalizer condition")
    assert remaining["message"] == ("Some content in the namespace has finalizers remaining: "
                                    "example.com/hold in 1 resource instances")
    api.patch(f"/api/v1/namespaces/{ns}/configmaps/held", {"metadata": {"finalizers": None}})

    def gone() -> bool:
        try:
            api.get(f"/api/v1/namespaces/{ns}")
        except ApiError as err:
            return err.code == 404
        return False

    wait_for(gone, 20, what="namespace deleted")


def test_service_endpoints_and_slices_follow_ready_pods(control_plane: Cluster) -> None:
    api, kubelet = control_plane.api, FakeKubelet(control_plane.api)
    ns = namespace(api, "svc")
    api.post(f"/api/v1/namespaces/{ns}/services", {"metadata": {"name": "web"}, "spec": {
        "selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}})
    d = deployment("web", 2)
    d["spec"]["template"]["spec"]["containers"][0]["ports"] = [{"name": "http", "containerPort": 8080}]
    api.post(f"/apis/apps/v1/namespaces/{ns}/deployments", d)
    _running(api, kubelet, ns, 2)

    def endpoints() -> dict | None:
        ep = api.get(f"/api/v1/namespaces/{ns}/endpoints/web")
        subsets = ep.get("subsets") or []
        return ep if subsets and len(subsets[0].get("addresses") or []) == 2 else None

    ep = wait_for(endpoints, 20, what="endpoints")
    assert ep["subsets"][0]["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]
    slices = wait_for(lambda: [s for s in api.items(f"/apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices")
                               if len(s.get("endpoints") or []) == 2], 20, what="endpointslice")
    assert slices[0]["metadata"]["labels"]["kubernetes.io/service-name"] == "web"
    assert all(e["conditions"]["ready"] for e in slices[0]["endpoints"])
    assert slices[0]["metadata"]["ownerReferences"][0]["kind"] == "Service"


def test_daemonset_runs_one_pod_per_eligible_node(control_plane: Cluster) -> None:
    from .harness import create_node, node

    api, kubelet = control_plane.api, FakeKubelet(control_plane.api)
    ns = namespace(api, "daemons")
    fake_taint = [{"key": "kwok.x-k8s.io/node", "value": "fake", "effect": "NoSchedule"}]
    other_taint = [{"key": "dedicated", "value": "db", "effect": "NoSchedule"}]
    for name, taints, labels in (("ds-a", fake_taint, {"ds": "yes"}), ("ds-b", fake_taint, {"ds": "yes"}),
                                 ("ds-c", other_taint, {"ds": "yes"}), ("ds-d", fake_taint, {})):
        body = node(name, taints=taints)
        body["metadata"]["labels"].update(labels)
        create_node(api, body)
    ds = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"},
          "spec": {"selector": {"matchLabels": {"app": "agent"}},
                   "template": {"metadata": {"labels": {"app": "agent"}},
                                "spec": {"nodeSelector": {"ds": "yes"},
                                         "tolerations": [{"key": "kwok.x-k8s.io/node", "operator": "Exists"}],
                                         "containers": [{"name": "c", "image": "agent"}]}}}}
    api.post(f"/apis/apps/v1/namespaces/{ns}/daemonsets", ds)

    def placed() -> set[str] | None:
        kubelet.step(ns)
        nodes = {p["spec"].get("nodeName") for p in api.items(f"/api/v1/namespaces/{ns}/pods")}
        return nodes if nodes == {"ds-a", "ds-b"} else None

    wait_for(placed, 20, what="daemon pods on ds-a and ds-b")

    def available() -> dict | None:
        kubelet.step(ns)
        status = api.get(f"/apis/apps/v1/namespaces/{ns}/daemonsets/agent").get("status") or {}
        return status if status.get("numberAvailable") == 2 else None

    status = wait_for(available, 20, what="daemonset status")
    assert status["desiredNumberScheduled"] == 2 and status["currentNumberScheduled"] == 2
    assert status["numberMisscheduled"] == 0 and status["updatedNumberScheduled"] == 2


def test_statefulset_creates_pods_in_order_and_scales_down_from_the_top(control_plane: Cluster) -> None:
    api, kubelet = control_plane.api, FakeKubelet(control_plane.api)
    ns = namespace(api, "stateful")
    sts = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
           "spec": {"replicas": 3, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                    "template": {"metadata": {"labels": {"app": "db"}},
                                 "spec": {"nodeName": "fake-node", "containers": [{"name": "c", "image": "db"}]}}}}
    api.post(f"/apis/apps/v1/namespaces/{ns}/statefulsets", sts)
    seen: list[list[str]] = []

    def all_running() -> bool:
        names = sorted(p["metadata"]["name"] for p in api.items(f"/api/v1/namespaces/{ns}/pods"))
        if not seen or seen[-1] != names:
            seen.append(names)
        kubelet.step(ns)
        status = api.get(f"/apis/apps/v1/namespaces/{ns}/statefulsets/db").get("status") or {}
        return status.get("readyReplicas") == 3

    wait_for(all_running, 20, what="3 ready replicas")
    # OrderedReady: pods appear one ordinal at a time, never out of order
    assert all(names == [f"db-{i}" for i in range(len(names))] for names in seen), seen
    assert len([s for s in seen if s]) >= 2
    pod = api.get(f"/api/v1/namespaces/{ns}/pods/db-1")
    assert pod["spec"]["hostname"] == "db-1" and pod["spec"]["subdomain"] == "db"
    assert pod["metadata"]["labels"]["apps.kubernetes.io/pod-index"] == "1"
    api.patch(f"/apis/apps/v1/namespaces/{ns}/statefulsets/db", {"spec": {"replicas": 1}})

    def scaled_down() -> bool:
        kubelet.step(ns)
        return sorted(p["metadata"]["name"] for p in api.items(f"/api/v1/namespaces/{ns}/pods")) == ["db-0"]

    wait_for(scaled_down, 20, what="only db-0 left")


def test_owner_cycle_is_collected_without_a_crash_loop(control_plane: Cluster) -> None:
    api = control_plane.api
    ns = namespace(api, "cycle")
    a = api.post(f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "a"}})
    b = api.post(f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "b", "ownerReferences": [
        {"apiVersion": "v1", "kind": "ConfigMap", "name": "a", "uid": a["metadata"]["uid"]}]}})
    api.patch(f"/api/v1/namespaces/{ns}/configmaps/a", {"metadata": {"ownerReferences": [
        {"apiVersion": "v1", "kind": "ConfigMap", "name": "b", "uid": b["metadata"]["uid"]}]}})
    api.delete(f"/api/v1/namespaces/{ns}/configmaps/a")
    wait_for(lambda: not api.items(f"/api/v1/namespaces/{ns}/configmaps") or
             [c["metadata"]["name"] for c in api.items(f"/api/v1/namespaces/{ns}/configmaps")] == ["kube-root-ca.crt"],
             20, what="b collected once its owner a is gone")
    assert control_plane.components[0].proc.poll() is None  # still running
