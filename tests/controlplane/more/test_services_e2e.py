"""Endpoints, EndpointSlices, PodDisruptionBudgets, ResourceQuota usage, TTL-after-finished and
CronJobs end to end (API server + `kwok control-plane`), checked with the real kubectl."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import KUBECTL_137

from ..e2e.harness import ApiError, Cluster, FakeKubelet, namespace, now_rfc3339, wait_for
from .conftest import KUBECTLS, kubectl, kubelet_running


def pod(name: str, labels: dict[str, str], port_name: str = "http", port: int = 8080,
        cpu: str | None = None) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "c", "image": "nginx", "ports": [{"name": port_name, "containerPort": port}]}
    if cpu:
        container["resources"] = {"requests": {"cpu": cpu, "memory": "64Mi"}, "limits": {"cpu": cpu, "memory": "64Mi"}}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels},
            "spec": {"nodeName": "fake-node", "containers": [container]}}


def run_pod(cluster: Cluster, ns: str, body: dict[str, Any], ip: str, ready: bool = True) -> None:
    """Create a pod and play its kubelet: Running with this IP, Ready or not."""
    cluster.api.post(f"/api/v1/namespaces/{ns}/pods", body)
    flag = "True" if ready else "False"
    conditions = [{"type": t, "status": flag, "lastTransitionTime": now_rfc3339()} for t in ("ContainersReady", "Ready")]
    cluster.api.patch(f"/api/v1/namespaces/{ns}/pods/{body['metadata']['name']}/status",
                      {"status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}], "conditions": conditions}})


def service(name: str, selector: dict[str, str] | None, target: Any = "http", headless: bool = False) -> dict[str, Any]:
    spec: dict[str, Any] = {"ports": [{"name": "web", "port": 80, "targetPort": target}]}
    if selector is not None:
        spec["selector"] = selector
    if headless:
        spec["clusterIP"] = "None"
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": spec}


def _slices(cluster: Cluster, ns: str, svc: str) -> list[dict[str, Any]]:
    return cluster.api.items(f"/apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices"
                             f"?labelSelector=kubernetes.io/service-name={svc}")


@pytest.mark.parametrize("binary", KUBECTLS)
def test_endpoints_and_slices_follow_pod_readiness(control_plane: Cluster, binary: str, tmp_path: Path) -> None:
    api = control_plane.api
    ns = namespace(api, "ep-" + ("v137" if binary == KUBECTL_137 else "v132"))
    api.post(f"/api/v1/namespaces/{ns}/services", service("web", {"app": "web"}))
    run_pod(control_plane, ns, pod("web-1", {"app": "web"}), "10.1.0.1")
    run_pod(control_plane, ns, pod("web-2", {"app": "web"}), "10.1.0.2")
    run_pod(control_plane, ns, pod("web-3", {"app": "web"}), "10.1.0.3", ready=False)
    run_pod(control_plane, ns, pod("other", {"app": "other"}), "10.1.0.9")

    def subset() -> dict[str, Any] | None:
        subsets = api.get(f"/api/v1/namespaces/{ns}/endpoints/web").get("subsets") or []
        ok = len(subsets) == 1 and len(subsets[0].get("addresses") or []) == 2 and subsets[0].get("notReadyAddresses")
        return subsets[0] if ok else None
    found = wait_for(subset, 15, what="endpoints with 2 ready and 1 not ready")
    assert sorted(a["ip"] for a in found["addresses"]) == ["10.1.0.1", "10.1.0.2"]
    assert [a["ip"] for a in found["notReadyAddresses"]] == ["10.1.0.3"]
    assert found["addresses"][0]["targetRef"]["kind"] == "Pod"
    assert found["ports"] == [{"name": "web", "port": 8080, "protocol": "TCP"}]  # named targetPort resolved

    got = kubectl(binary, control_plane, tmp_path, "-n", ns, "get", "endpoints", "web", "--no-headers")
    assert got.returncode == 0, got.stderr
    assert got.stdout.split()[1] == "10.1.0.1:8080,10.1.0.2:8080", got.stdout

    slices = wait_for(lambda: _slices(control_plane, ns, "web"), 15, what="endpoint slices")
    assert len(slices) == 1
    slice_ = slices[0]
    assert slice_["addressType"] == "IPv4"
    assert slice_["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"] == "endpointslice-controller.k8s.io"
    assert slice_["metadata"]["ownerReferences"][0]["kind"] == "Service"
    assert slice_["ports"] == [{"name": "web", "port": 8080, "protocol": "TCP"}]
    ready = {e["addresses"][0]: e["conditions"]["ready"] for e in slice_["endpoints"]}
    assert ready == {"10.1.0.1": True, "10.1.0.2": True, "10.1.0.3": False}
    got = kubectl(binary, control_plane, tmp_path, "-n", ns, "get", "endpointslices",
                  "-l", "kubernetes.io/service-name=web", "--no-headers")
    assert got.returncode == 0 and got.stdout.split()[1:3] == ["IPv4", "8080"], got.stdout

    # a pod that stops matching leaves both
    api.patch(f"/api/v1/namespaces/{ns}/pods/web-2", {"metadata": {"labels": {"app": "gone"}}})
    def ready_ips() -> list[str]:
        subsets = api.get(f"/api/v1/namespaces/{ns}/endpoints/web").get("subsets") or [{}]
        return sorted(a["ip"] for a in subsets[0].get("addresses") or [])
    wait_for(lambda: ready_ips() == ["10.1.0.1"], 15, what="web-2 removed from endpoints")
    wait_for(lambda: len(_slices(control_plane, ns, "web")[0]["endpoints"]) == 2, 15, what="web-2 removed from slice")


def test_endpoints_follow_selector_changes_and_go_with_the_service(control_plane: Cluster) -> None:
    api = control_plane.api
    ns = namespace(api, "ep-life")
    run_pod(control_plane, ns, pod("blue", {"app": "blue"}), "10.5.0.1")
    run_pod(control_plane, ns, pod("green", {"app": "green"}), "10.5.0.2")
    api.post(f"/api/v1/namespaces/{ns}/services", service("live", {"app": "blue"}))

    def ready_ips() -> list[str]:
        try:
            subsets = api.get(f"/api/v1/namespaces/{ns}/endpoints/live").get("subsets") or [{}]
        except ApiError:
            return []
        return sorted(a["ip"] for a in subsets[0].get("addresses") or [])
    wait_for(lambda: ready_ips() == ["10.5.0.1"], 15, what="blue in endpoints")
    api.patch(f"/api/v1/namespaces/{ns}/services/live", {"spec": {"selector": {"app": "green"}}})
    wait_for(lambda: ready_ips() == ["10.5.0.2"], 15, what="switched to green")
    wait_for(lambda: [e["addresses"][0] for s in _slices(control_plane, ns, "live") for e in s.get("endpoints") or []]
             == ["10.5.0.2"], 15, what="slice switched to green")
    api.delete(f"/api/v1/namespaces/{ns}/services/live")
    wait_for(lambda: _slices(control_plane, ns, "live") == [], 15, what="slices garbage-collected")


def test_endpoints_go_with_the_service(control_plane: Cluster) -> None:
    api = control_plane.api
    ns = namespace(api, "ep-delete")
    run_pod(control_plane, ns, pod("blue", {"app": "blue"}), "10.6.0.1")
    api.post(f"/api/v1/namespaces/{ns}/services", service("short", {"app": "blue"}))
    wait_for(lambda: api.get(f"/api/v1/namespaces/{ns}/endpoints/short").get("subsets"), 15, what="endpoints")
    api.delete(f"/api/v1/namespaces/{ns}/services/short")

    def endpoints_gone() -> bool:
        try:
            api.get(f"/api/v1/namespaces/{ns}/endpoints/short")
        except ApiError as err:
            return err.code == 404
        return False
    wait_for(endpoints_gone, 5, what="endpoints deleted with the service")


def test_service_without_selector_gets_nothing_and_headless_gets_endpoints(control_plane: Cluster) -> None:
    api = control_plane.api
    ns = namespace(api, "ep-kinds")
    api.post(f"/api/v1/namespaces/{ns}/services", service("manual", None, target=8080))
    api.post(f"/api/v1/namespaces/{ns}/services", service("db", {"app": "db"}, target=5432, headless=True))
    run_pod(control_plane, ns, pod("db-0", {"app": "db"}, "pg", 5432), "10.2.0.1")
    slices = wait_for(lambda: [s for s in _slices(control_plane, ns, "db") if s.get("endpoints")], 15,
                      what="headless service slice")
    assert slices[0]["endpoints"][0]["addresses"] == ["10.2.0.1"]
    endpoints = wait_for(lambda: api.get(f"/api/v1/namespaces/{ns}/endpoints/db"), 15, what="headless endpoints")
    assert endpoints["subsets"][0]["addresses"][0]["ip"] == "10.2.0.1"
    time.sleep(1)  # give the controllers time to (wrongly) act on the selector-less service
    with pytest.raises(ApiError) as err:
        api.get(f"/api/v1/namespaces/{ns}/endpoints/manual")
    assert err.value.code == 404
    assert _slices(control_plane, ns, "manual") == []


def test_endpoint_slices_hold_at_most_100_endpoints(control_plane: Cluster) -> None:
    api = control_plane.api
    ns = namespace(api, "ep-many")
    api.post(f"/api/v1/namespaces/{ns}/services", service("big", {"app": "big"}, target=8080))
    for i in range(130):
        run_pod(control_plane, ns, pod(f"big-{i}", {"app": "big"}), f"10.3.{i // 200}.{i % 200 + 1}")
    def all_published() -> list[dict[str, Any]] | None:
        found = _slices(control_plane, ns, "big")
        return found if sum(len(s.get("endpoints") or []) for s in found) == 130 else None
    slices = wait_for(all_published, 30, what="130 endpoints in slices")
    assert sorted(len(s["endpoints"]) for s in slices) in ([30, 100], [65, 65]) and len(slices) == 2
    assert all(len(s["endpoints"]) <= 100 for s in slices)


def deployment(name: str, replicas: int) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"nodeName": "fake-node", "containers": [{"name": "c", "image": "nginx"}]}}}}


def pdb(name: str, selector: dict[str, Any], **budget: Any) -> dict[str, Any]:
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": name},
            "spec": {"selector": selector, **budget}}


def _pdb_status(api: Any, ns: str, name: str) -> dict[str, Any]:
    return api.get(f"/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets/{name}").get("status") or {}


@pytest.mark.parametrize("binary", KUBECTLS)
def test_pdb_allowed_disruptions_and_eviction(control_plane: Cluster, binary: str, tmp_path: Path) -> None:
    api = control_plane.api
    ns = namespace(api, "pdb-" + ("v137" if binary == KUBECTL_137 else "v132"))
    api.post(f"/apis/apps/v1/namespaces/{ns}/deployments", deployment("app", 3))
    api.post(f"/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets", pdb("min2", {"matchLabels": {"app": "app"}},
                                                                          minAvailable=2))
    api.post(f"/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets", pdb("half", {"matchLabels": {"app": "app"}},
                                                                          maxUnavailable="50%"))
    with kubelet_running(control_plane, ns):
        status = wait_for(lambda: (s := _pdb_status(api, ns, "min2")).get("currentHealthy") == 3 and s, 20,
                          what="3 healthy pods")
        assert (status["desiredHealthy"], status["expectedPods"], status["disruptionsAllowed"]) == (2, 3, 1)
        cond = next(c for c in status["conditions"] if c["type"] == "DisruptionAllowed")
        assert (cond["status"], cond["reason"]) == ("True", "SufficientPods")
        half = wait_for(lambda: (s := _pdb_status(api, ns, "half")).get("currentHealthy") == 3 and s, 20)
        assert (half["desiredHealthy"], half["disruptionsAllowed"]) == (1, 2)  # 50% of 3 rounds up to 2 unavailable
        got = kubectl(binary, control_plane, tmp_path, "-n", ns, "get", "pdb", "min2", "--no-headers")
        assert got.returncode == 0 and got.stdout.split()[1:4] == ["2", "N/A", "1"], got.stdout
    # no kubelet now: an evicted pod's replacement never becomes ready
    victims = sorted(p["metadata"]["name"] for p in api.items(f"/api/v1/namespaces/{ns}/pods"))
    api.delete(f"/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets/half")
    evict: dict[str, Any] = {"apiVersion": "policy/v1", "kind": "Eviction",
                             "metadata": {"name": victims[0], "namespace": ns}}
    api.post(f"/api/v1/namespaces/{ns}/pods/{victims[0]}/eviction", evict)
    def exhausted() -> dict[str, Any] | None:
        status = _pdb_status(api, ns, "min2")
        cond = next(c for c in status["conditions"] if c["type"] == "DisruptionAllowed")
        return cond if status.get("disruptionsAllowed") == 0 and cond["status"] == "False" else None
    cond = wait_for(exhausted, 15, what="no more disruptions")
    assert cond["reason"] == "InsufficientPods"
    evict["metadata"]["name"] = victims[1]
    with pytest.raises(ApiError) as err:
        api.post(f"/api/v1/namespaces/{ns}/pods/{victims[1]}/eviction", evict)
    assert err.value.code == 429


def test_pdb_with_empty_selector_covers_the_whole_namespace(control_plane: Cluster) -> None:
    api = control_plane.api
    ns = namespace(api, "pdb-all")
    run_pod(control_plane, ns, pod("a", {"app": "a"}), "10.4.0.1")
    run_pod(control_plane, ns, pod("b", {"app": "b"}), "10.4.0.2")
    api.post(f"/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets", pdb("all", {}, minAvailable=1))
    status = wait_for(lambda: (s := _pdb_status(api, ns, "all")).get("observedGeneration") and s, 10)
    assert (status["currentHealthy"], status["disruptionsAllowed"]) == (2, 1)


def test_resource_quota_usage_tracks_creations_and_deletions(control_plane: Cluster, tmp_path: Path) -> None:
    api = control_plane.api
    ns = namespace(api, "quota")
    quota: dict[str, Any] = {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "compute"},
                             "spec": {"hard": {"pods": "10", "requests.cpu": "4", "limits.memory": "1Gi",
                                               "configmaps": "5"}}}
    api.post(f"/api/v1/namespaces/{ns}/resourcequotas", quota)
    status = wait_for(lambda: api.get(f"/api/v1/namespaces/{ns}/resourcequotas/compute").get("status", {}).get("used"),
                      15, what="quota status")
    assert api.get(f"/api/v1/namespaces/{ns}/resourcequotas/compute")["status"]["hard"] == quota["spec"]["hard"]
    for i in range(3):
        api.post(f"/api/v1/namespaces/{ns}/pods", pod(f"p{i}", {"app": "q"}, cpu="500m"))
    api.post(f"/api/v1/namespaces/{ns}/configmaps", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}})
    api.delete(f"/api/v1/namespaces/{ns}/pods/p0", {"kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": 0})
    api.patch(f"/api/v1/namespaces/{ns}/pods/p1/status", {"status": {"phase": "Succeeded"}})  # terminal: not counted

    def used() -> dict[str, str] | None:
        status = api.get(f"/api/v1/namespaces/{ns}/resourcequotas/compute").get("status") or {}
        return status.get("used") if (status.get("used") or {}).get("pods") == "1" else None
    final = wait_for(used, 20, what="usage after deletion")
    # configmaps counts the namespace's kube-root-ca.crt too when that controller runs
    assert final["pods"] == "1" and final["requests.cpu"] == "500m" and final["limits.memory"] == "64Mi"
    assert int(final["configmaps"]) >= 1
    assert status is not None


def test_scoped_quotas_measure_only_the_pods_they_select(control_plane: Cluster) -> None:
    """A deletion is seen only by the controller, so the usage after it is the controller's count:
    a BestEffort quota counts the pods without requests, a NotBestEffort one the others, and a
    PriorityClass selector the pods of that class."""
    api = control_plane.api
    ns = namespace(api, "quota-scopes")
    quotas = {"best-effort": {"scopes": ["BestEffort"]},
              "not-best-effort": {"scopes": ["NotBestEffort"]},
              "high": {"scopeSelector": {"matchExpressions": [{"scopeName": "PriorityClass", "operator": "In",
                                                                "values": ["high"]}]}}}
    for name, scope in quotas.items():
        api.post(f"/api/v1/namespaces/{ns}/resourcequotas", {"apiVersion": "v1", "kind": "ResourceQuota",
                                                             "metadata": {"name": name},
                                                             "spec": {"hard": {"pods": "10"}, **scope}})
    api.post("/apis/scheduling.k8s.io/v1/priorityclasses", {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                                                           "metadata": {"name": "high"}, "value": 1000})
    try:
        best_effort = pod("free", {"app": "q"})
        best_effort["spec"]["containers"][0].pop("resources", None)
        for name in ("free", "free-2"):
            body = {**best_effort, "metadata": {**best_effort["metadata"], "name": name}}
            api.post(f"/api/v1/namespaces/{ns}/pods", body)
        api.post(f"/api/v1/namespaces/{ns}/pods", pod("sized", {"app": "q"}, cpu="100m"))
        urgent = pod("urgent", {"app": "q"}, cpu="100m")
        urgent["spec"]["priorityClassName"] = "high"
        api.post(f"/api/v1/namespaces/{ns}/pods", urgent)
        api.delete(f"/api/v1/namespaces/{ns}/pods/free-2", {"kind": "DeleteOptions", "apiVersion": "v1",
                                                            "gracePeriodSeconds": 0})

        def used() -> dict[str, str | None]:
            found = {}
            for name in quotas:
                status = api.get(f"/api/v1/namespaces/{ns}/resourcequotas/{name}").get("status") or {}
                found[name] = (status.get("used") or {}).get("pods")
            return found
        expected = {"best-effort": "1", "not-best-effort": "2", "high": "1"}
        wait_for(lambda: used() == expected, 20, what=f"scoped usage {expected}")
    finally:
        api.delete("/apis/scheduling.k8s.io/v1/priorityclasses/high")


def test_resource_quota_counts_any_resource(control_plane: Cluster, tmp_path: Path) -> None:
    """A deletion is seen only by the controller (admission counts creations), so usage going down
    shows the controller's count."""
    api = control_plane.api
    ns = namespace(api, "quota-count")
    for name in ("one", "two"):
        api.post(f"/apis/apps/v1/namespaces/{ns}/deployments", deployment(name, 0))
    quota = {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "objects"},
             "spec": {"hard": {"count/deployments.apps": "5"}}}
    api.post(f"/api/v1/namespaces/{ns}/resourcequotas", quota)
    api.delete(f"/apis/apps/v1/namespaces/{ns}/deployments/two")

    def used() -> str | None:
        found = (api.get(f"/api/v1/namespaces/{ns}/resourcequotas/objects").get("status") or {}).get("used") or {}
        return found.get("count/deployments.apps")
    wait_for(lambda: used() == "1", 4, what="one deployment counted")
    api.post(f"/apis/apps/v1/namespaces/{ns}/deployments", deployment("three", 0))
    wait_for(lambda: used() == "2", 4, what="admission charges a creation")
    for binary in KUBECTLS:
        shown = kubectl(binary, control_plane, tmp_path, "-n", ns, "describe", "quota", "objects")
        assert shown.returncode == 0, shown.stderr
        rows = [line.split() for line in shown.stdout.splitlines()]
        assert ["count/deployments.apps", "2", "5"] in rows, shown.stdout
    api.delete(f"/apis/apps/v1/namespaces/{ns}/deployments/three")
    wait_for(lambda: used() == "1", 4, what="the deletion replenishes the quota")


def test_headless_service_is_labelled(control_plane: Cluster) -> None:
    api = control_plane.api
    ns = namespace(api, "ep-headless")
    api.post(f"/api/v1/namespaces/{ns}/services", service("db", {"app": "db"}, target=5432, headless=True))
    run_pod(control_plane, ns, pod("db-0", {"app": "db"}, "pg", 5432), "10.2.0.1")
    slices = wait_for(lambda: _slices(control_plane, ns, "db"), 15, what="headless service slice")
    endpoints = wait_for(lambda: api.get(f"/api/v1/namespaces/{ns}/endpoints/db"), 15, what="headless endpoints")
    assert slices[0]["metadata"]["labels"].get("service.kubernetes.io/headless") == ""
    assert endpoints["metadata"]["labels"].get("service.kubernetes.io/headless") == ""


def test_finished_job_deleted_after_ttl(control_plane: Cluster) -> None:
    api = control_plane.api
    ns = namespace(api, "ttl")
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "once"},
           "spec": {"ttlSecondsAfterFinished": 3, "template": {"spec": {
               "nodeName": "fake-node", "restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}}
    api.post(f"/apis/batch/v1/namespaces/{ns}/jobs", job)
    kubelet = FakeKubelet(api)

    def complete() -> bool:
        kubelet.step(ns, phase="Succeeded")
        conditions = (api.get(f"/apis/batch/v1/namespaces/{ns}/jobs/once").get("status") or {}).get("conditions") or []
        return any(c["type"] == "Complete" and c["status"] == "True" for c in conditions)
    wait_for(complete, 20, what="job complete")
    completed = time.monotonic()

    def gone() -> bool:
        try:
            api.get(f"/apis/batch/v1/namespaces/{ns}/jobs/once")
        except ApiError as err:
            return err.code == 404
        return False
    wait_for(gone, 15, what="job deleted by TTL")
    assert time.monotonic() - completed >= 1.5  # not before its TTL


def test_cronjob_runs_missed_schedule_and_records_status(control_plane: Cluster, tmp_path: Path) -> None:
    api = control_plane.api
    ns = namespace(api, "cron")
    cronjob = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "tick"},
               "spec": {"schedule": "*/5 * * * *", "jobTemplate": {"spec": {"template": {"spec": {
                   "nodeName": "fake-node", "restartPolicy": "Never",
                   "containers": [{"name": "c", "image": "busybox"}]}}}}}}
    api.post(f"/apis/batch/v1/namespaces/{ns}/cronjobs", cronjob)
    # pretend it last ran 6 minutes ago: a scheduled time has passed since, which runs now
    last = time.time() - 360
    api.patch(f"/apis/batch/v1/namespaces/{ns}/cronjobs/tick/status",
              {"status": {"lastScheduleTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(last))}})
    expected_minutes = (int(time.time()) // 300) * 5  # the latest */5 minute
    jobs = wait_for(lambda: api.items(f"/apis/batch/v1/namespaces/{ns}/jobs"), 15, what="a job from the cronjob")
    assert [j["metadata"]["name"] for j in jobs] == [f"tick-{expected_minutes}"]
    assert jobs[0]["metadata"]["ownerReferences"][0]["kind"] == "CronJob"
    status = wait_for(lambda: (s := api.get(f"/apis/batch/v1/namespaces/{ns}/cronjobs/tick").get("status") or {})
                      .get("active") and s, 15, what="active job in status")
    assert status["active"][0]["name"] == f"tick-{expected_minutes}"
    assert status["lastScheduleTime"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expected_minutes * 60))
    kubelet = FakeKubelet(api)

    def succeeded() -> dict[str, Any] | None:
        kubelet.step(ns, phase="Succeeded")
        s = api.get(f"/apis/batch/v1/namespaces/{ns}/cronjobs/tick").get("status") or {}
        return s if s.get("lastSuccessfulTime") and not s.get("active") else None
    wait_for(succeeded, 20, what="lastSuccessfulTime and no active job")
    binary = KUBECTLS[-1]
    got = kubectl(binary, control_plane, tmp_path, "-n", ns, "get", "cronjob", "tick", "--no-headers")
    assert got.returncode == 0 and got.stdout.split()[1:3] == ["*/5", "*"], got.stdout
