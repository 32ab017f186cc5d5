"""Server-side Tables and HumanDuration: the columns and cells `kubectl get` shows on a real 1.36."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kwok.api.duration import human_duration, short_human_duration, since
from kwok.api.errors import ApiError
from kwok.api.tables import column_definitions, rows, table

NOW = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)


def ago(**delta: float) -> str:
    return (NOW - timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


def cells(resource: str, obj: dict[str, Any], group: str = "") -> list[Any]:
    return rows(resource, group, [obj], NOW)[0]["cells"]  # type: ignore[no-any-return]


def headers(resource: str, group: str = "", wide: bool = False) -> list[str]:
    return [c["name"] for c in column_definitions(resource, group) if wide or c["priority"] == 0]


# --- HumanDuration (apimachinery's own boundary cases) ---------------------------------------------

MS = 0.001


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(-2, "<invalid>"), (-2 + 1e-9, "0s"), (0, "0s"), (1 - MS, "0s"), (1, "1s"), (70, "70s"),
     (120 - MS, "119s"), (120, "2m"), (121, "2m1s"), (190, "3m10s"), (600 - MS, "9m59s"), (600, "10m"),
     (601, "10m"), (3 * 3600 - MS, "179m"), (3 * 3600, "3h"), (3 * 3600 + 60, "3h1m"),
     (8 * 3600 - MS, "7h59m"), (8 * 3600, "8h"), (8 * 3600 + 59 * 60, "8h"), (47 * 3600, "47h"),
     (48 * 3600, "2d"), (49 * 3600, "2d1h"), (8 * 86400 - MS, "7d23h"), (8 * 86400, "8d"),
     (367 * 86400, "367d"), (730 * 86400 - MS, "729d"), (730 * 86400, "2y"), (731 * 86400, "2y1d"),
     (2920 * 86400 - MS, "7y364d"), (2920 * 86400, "8y"), (9 * 365 * 86400, "9y")],
)
def test_human_duration_matches_apimachinery(seconds: float, text: str) -> None:
    assert human_duration(seconds) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(-2, "<invalid>"), (0, "0s"), (60 - MS, "59s"), (60, "1m"), (3600, "1h"), (86400 - MS, "23h"),
     (86400, "1d"), (365 * 86400 - MS, "364d"), (365 * 86400, "1y"), (730 * 86400, "2y")],
)
def test_short_human_duration_matches_apimachinery(seconds: float, text: str) -> None:
    assert short_human_duration(seconds) == text


def test_since_handles_missing_zero_and_fractional_times() -> None:
    assert since(None, NOW) == "<unknown>"
    assert since("0001-01-01T00:00:00Z", NOW) == "<unknown>"
    assert since("not a time", NOW) == "<invalid>"
    assert since("2026-11-27T11:59:00.123456789Z", NOW) == "59s"


# --- the Table envelope ---------------------------------------------------------------------------


def test_table_envelope_rows_carry_partial_object_metadata() -> None:
    cm = {"metadata": {"name": "cfg", "namespace": "ns", "labels": {"a": "b"}, "creationTimestamp": ago(minutes=5)},
          "data": {"k": "v"}, "binaryData": {"b": "AA=="}}
    result = table("configmaps", "", [cm], NOW, list_meta={"resourceVersion": "42", "continue": "t"})
    assert result["kind"] == "Table" and result["apiVersion"] == "meta.k8s.io/v1"
    assert result["metadata"] == {"resourceVersion": "42", "continue": "t"}
    assert [c["name"] for c in result["columnDefinitions"]] == ["Name", "Data", "Age"]
    assert set(result["columnDefinitions"][0]) == {"name", "type", "format", "description", "priority"}
    row = result["rows"][0]
    assert row["cells"] == ["cfg", 2, "5m"]
    assert row["object"] == {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                             "metadata": cm["metadata"]}


def test_include_object_modes() -> None:
    obj = {"metadata": {"name": "x"}, "data": {}}
    assert rows("configmaps", "", [obj], NOW, include_object="Object")[0]["object"] == obj
    assert "object" not in rows("configmaps", "", [obj], NOW, include_object="None")[0]
    with pytest.raises(ApiError) as failure:
        rows("configmaps", "", [obj], NOW, include_object="Everything")
    assert failure.value.code == 400
    assert failure.value.message == 'unrecognized includeObject value: "Everything"'


# --- pods -----------------------------------------------------------------------------------------


def pod(status: dict[str, Any], spec: dict[str, Any] | None = None, **meta: Any) -> dict[str, Any]:
    return {"metadata": {"name": "p", "creationTimestamp": ago(hours=1), **meta},
            "spec": spec or {"containers": [{"name": "app", "image": "nginx"}]}, "status": status}


def running(name: str = "app", ready: bool = True, restarts: int = 0, **extra: Any) -> dict[str, Any]:
    return {"name": name, "ready": ready, "restartCount": restarts, "state": {"running": {}}, **extra}


def test_pod_columns() -> None:
    assert headers("pods") == ["Name", "Ready", "Status", "Restarts", "Age"]
    assert headers("pods", wide=True)[5:] == ["IP", "Node", "Nominated Node", "Readiness Gates"]
    restarts = next(c for c in column_definitions("pods", "") if c["name"] == "Restarts")
    assert restarts["type"] == "string"


def test_running_pod_wide_cells() -> None:
    p = pod({"phase": "Running", "podIPs": [{"ip": "10.0.0.7"}], "containerStatuses": [running()]},
            {"containers": [{"name": "app"}], "nodeName": "node-1",
             "readinessGates": [{"conditionType": "example.com/ready"}]})
    assert cells("pods", p) == ["p", "1/1", "Running", "0", "60m", "10.0.0.7", "node-1", "<none>", "0/1"]


def test_pending_pod_shows_none_for_unset_wide_cells() -> None:
    assert cells("pods", pod({"phase": "Pending"}))[2:] == ["Pending", "0", "60m", "<none>", "<none>", "<none>",
                                                           "<none>"]


def test_restarts_show_when_the_last_restart_happened() -> None:
    last = {"terminated": {"exitCode": 1, "finishedAt": ago(minutes=5)}}
    p = pod({"phase": "Running", "containerStatuses": [running(restarts=2, lastState=last)]})
    assert cells("pods", p)[3] == "2 (5m ago)"


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ({"phase": "Running", "containerStatuses": [
            {"name": "app", "restartCount": 4, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]},
         "CrashLoopBackOff"),
        ({"phase": "Succeeded", "containerStatuses": [
            {"name": "app", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]}, "Completed"),
        ({"phase": "Failed", "containerStatuses": [
            {"name": "app", "state": {"terminated": {"exitCode": 137}}}]}, "ExitCode:137"),
        ({"phase": "Failed", "containerStatuses": [
            {"name": "app", "state": {"terminated": {"exitCode": 1, "signal": 9}}}]}, "Signal:9"),
        ({"phase": "Failed", "reason": "Evicted"}, "Evicted"),
        ({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]},
         "SchedulingGated"),
    ],
)
def test_pod_status_reason(status: dict[str, Any], expected: str) -> None:
    assert cells("pods", pod(status))[2] == expected


INIT_SPEC = {"initContainers": [{"name": "first"}, {"name": "second"}], "containers": [{"name": "app"}]}


@pytest.mark.parametrize(
    ("init_statuses", "expected"),
    [
        ([{"name": "first", "state": {"waiting": {"reason": "PodInitializing"}}}], "Init:0/2"),
        ([{"name": "first", "state": {"terminated": {"exitCode": 0}}},
          {"name": "second", "state": {"running": {}}}], "Init:1/2"),
        ([{"name": "first", "state": {"terminated": {"exitCode": 1}}}], "Init:ExitCode:1"),
        ([{"name": "first", "state": {"terminated": {"exitCode": 1, "signal": 2}}}], "Init:Signal:2"),
        ([{"name": "first", "state": {"terminated": {"exitCode": 1, "reason": "Error"}}}], "Init:Error"),
        ([{"name": "first", "state": {"waiting": {"reason": "ImagePullBackOff"}}}], "Init:ImagePullBackOff"),
    ],
)
def test_init_container_progress(init_statuses: list[dict[str, Any]], expected: str) -> None:
    p = pod({"phase": "Pending", "initContainerStatuses": init_statuses}, INIT_SPEC)
    assert cells("pods", p)[1:3] == ["0/1", expected]


def test_sidecar_init_containers_count_towards_ready() -> None:
    spec = {"initContainers": [{"name": "proxy", "restartPolicy": "Always"}], "containers": [{"name": "app"}]}
    status = {"phase": "Running", "conditions": [{"type": "Initialized", "status": "True"}],
              "initContainerStatuses": [{"name": "proxy", "ready": True, "started": True, "restartCount": 1,
                                         "state": {"running": {}}}],
              "containerStatuses": [running(restarts=2)]}
    assert cells("pods", pod(status, spec))[1:4] == ["2/2", "Running", "3"]


def test_terminating_pods_and_lost_nodes() -> None:
    deleting: dict[str, Any] = {"deletionTimestamp": ago(seconds=3)}
    assert cells("pods", pod({"phase": "Running", "containerStatuses": [running()]}, **deleting))[2] == "Terminating"
    assert cells("pods", pod({"phase": "Succeeded"}, **deleting))[2] == "Succeeded"
    assert cells("pods", pod({"phase": "Running", "reason": "NodeLost"}, **deleting))[2] == "Unknown"


def test_completed_with_a_running_container_is_running_or_not_ready() -> None:
    statuses = [running("a"), {"name": "b", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]
    spec = {"containers": [{"name": "a"}, {"name": "b"}]}
    ready = [{"type": "Ready", "status": "True"}]
    assert cells("pods", pod({"phase": "Running", "containerStatuses": statuses, "conditions": ready}, spec))[2] == \
        "Running"
    assert cells("pods", pod({"phase": "Running", "containerStatuses": statuses}, spec))[2] == "NotReady"


def test_finished_pods_carry_row_conditions() -> None:
    row = rows("pods", "", [pod({"phase": "Succeeded"})], NOW)[0]
    assert row["conditions"] == [{"type": "Completed", "status": "True", "reason": "Succeeded",
                                  "message": "The pod has completed successfully."}]
    assert "conditions" not in rows("pods", "", [pod({"phase": "Running"})], NOW)[0]


# --- nodes and core types -------------------------------------------------------------------------


def node(ready: str | None, **spec: Any) -> dict[str, Any]:
    conditions = [{"type": "Ready", "status": ready}] if ready else []
    return {"metadata": {"name": "n1", "creationTimestamp": ago(hours=5, minutes=3),
                         "labels": {"node-role.kubernetes.io/control-plane": "", "node-role.kubernetes.io/worker": "",
                                    "kubernetes.io/role": "infra"}},
            "spec": spec,
            "status": {"conditions": conditions, "addresses": [{"type": "InternalIP", "address": "172.18.0.2"}],
                       "nodeInfo": {"kubeletVersion": "v1.36.0", "osImage": "Debian GNU/Linux 12 (bookworm)",
                                    "kernelVersion": "6.1.0", "containerRuntimeVersion": "containerd://1.7.24"}}}


def test_node_cells() -> None:
    assert headers("nodes", wide=True) == ["Name", "Status", "Roles", "Age", "Version", "Internal-IP", "External-IP",
                                           "OS-Image", "Kernel-Version", "Container-Runtime"]
    assert cells("nodes", node("True")) == [
        "n1", "Ready", "control-plane,infra,worker", "5h3m", "v1.36.0", "172.18.0.2", "<none>",
        "Debian GNU/Linux 12 (bookworm)", "6.1.0", "containerd://1.7.24"]


@pytest.mark.parametrize(
    ("ready", "unschedulable", "expected"),
    [("True", True, "Ready,SchedulingDisabled"), ("False", False, "NotReady"), ("Unknown", False, "NotReady"),
     (None, False, "Unknown"), (None, True, "Unknown,SchedulingDisabled")],
)
def test_node_status(ready: str | None, unschedulable: bool, expected: str) -> None:
    assert cells("nodes", node(ready, unschedulable=unschedulable))[1] == expected


def test_node_without_roles_or_info() -> None:
    bare = {"metadata": {"name": "n", "creationTimestamp": ago(days=3)}, "status": {}}
    assert cells("nodes", bare)[2:] == ["<none>", "3d", "", "<none>", "<none>", "<unknown>", "<unknown>", "<unknown>"]


def service(kind: str, **spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": "svc", "creationTimestamp": ago(days=10)},
            "spec": {"type": kind, "clusterIPs": ["10.96.0.10"], **spec}}


@pytest.mark.parametrize(
    ("svc", "expected"),
    [
        (service("ClusterIP", ports=[{"port": 80, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}],
                 selector={"b": "2", "a": "1"}),
         ["svc", "ClusterIP", "10.96.0.10", "<none>", "80/TCP,53/UDP", "10d", "a=1,b=2"]),
        (service("NodePort", ports=[{"port": 80, "nodePort": 30080, "protocol": "TCP"}], externalIPs=["1.2.3.4"]),
         ["svc", "NodePort", "10.96.0.10", "1.2.3.4", "80:30080/TCP", "10d", "<none>"]),
        (service("LoadBalancer"), ["svc", "LoadBalancer", "10.96.0.10", "<pending>", "<none>", "10d", "<none>"]),
        ({**service("LoadBalancer"), "status": {"loadBalancer": {"ingress": [{"ip": "5.6.7.8"}, {"hostname": "lb"}]}}},
         ["svc", "LoadBalancer", "10.96.0.10", "5.6.7.8,lb", "<none>", "10d", "<none>"]),
        (service("ExternalName", externalName="example.com", clusterIPs=None),
         ["svc", "ExternalName", "<none>", "example.com", "<none>", "10d", "<none>"]),
    ],
)
def test_service_cells(svc: dict[str, Any], expected: list[Any]) -> None:
    assert cells("services", svc) == expected


def test_endpoints_and_endpoint_slices_cap_at_three() -> None:
    subsets = [{"addresses": [{"ip": f"10.0.0.{i}"} for i in range(1, 6)], "ports": [{"port": 8080}]}]
    endpoints = {"metadata": {"name": "e", "creationTimestamp": ago(seconds=30)}, "subsets": subsets}
    assert cells("endpoints", endpoints) == ["e", "10.0.0.1:8080,10.0.0.2:8080,10.0.0.3:8080 + 2 more...", "30s"]
    assert cells("endpoints", {**endpoints, "subsets": []})[1] == "<none>"
    eps = {"metadata": {"name": "s"}, "addressType": "IPv4", "ports": [{"port": 80}, {"name": "http"}],
           "endpoints": [{"addresses": ["10.0.0.1"]}]}
    assert cells("endpointslices", eps, "discovery.k8s.io")[:4] == ["s", "IPv4", "80,http", "10.0.0.1"]
    assert cells("endpointslices", {"metadata": {"name": "s"}}, "discovery.k8s.io")[2:4] == ["<unset>", "<unset>"]


def test_event_cells_include_wide_ones() -> None:
    event = {"metadata": {"name": "p.1"}, "type": "Normal", "reason": "Scheduled", "count": 3,
             "message": " Successfully assigned default/p to n1\n", "firstTimestamp": ago(minutes=30),
             "lastTimestamp": ago(minutes=2), "involvedObject": {"kind": "Pod", "name": "p"},
             "source": {"component": "default-scheduler"}}
    assert headers("events") == ["Last Seen", "Type", "Reason", "Object", "Message"]
    assert cells("events", event) == ["2m", "Normal", "Scheduled", "pod/p", "", "default-scheduler",
                                      "Successfully assigned default/p to n1", "30m", 3, "p.1"]


def test_event_with_series_and_event_time() -> None:
    event = {"metadata": {"name": "e"}, "eventTime": "2026-11-27T11:00:00.000000Z", "reportingComponent": "kwok",
             "reportingInstance": "host-1", "series": {"count": 7, "lastObservedTime": ago(seconds=10)},
             "involvedObject": {"kind": "Node"}}
    assert cells("events", event) == ["10s", "", "", "node", "", "kwok, host-1", "", "60m", 7, "e"]


def test_secrets_serviceaccounts_namespaces_leases() -> None:
    meta = {"name": "x", "creationTimestamp": ago(seconds=45)}
    assert cells("secrets", {"metadata": meta, "type": "Opaque", "data": {"a": "", "b": ""}}) == ["x", "Opaque", 2, "45s"]
    assert headers("serviceaccounts") == ["Name", "Age"]
    assert cells("serviceaccounts", {"metadata": meta, "secrets": [{"name": "t"}]}) == ["x", "45s"]
    assert cells("namespaces", {"metadata": meta, "status": {"phase": "Active"}}) == ["x", "Active", "45s"]
    lease = {"metadata": meta, "spec": {"holderIdentity": "kwok-controller"}}
    assert cells("leases", lease, "coordination.k8s.io") == ["x", "kwok-controller", "45s"]
    assert cells("leases", {"metadata": meta, "spec": {}}, "coordination.k8s.io") == ["x", "", "45s"]


# --- workloads ------------------------------------------------------------------------------------

TEMPLATE = {"spec": {"containers": [{"name": "web", "image": "nginx:1.27"}, {"name": "log", "image": "busybox"}]}}


def test_deployment_cells() -> None:
    deploy = {"metadata": {"name": "web", "creationTimestamp": ago(minutes=4, seconds=7)},
              "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}}, "template": TEMPLATE},
              "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}}
    assert headers("deployments", "apps", wide=True) == ["Name", "Ready", "Up-to-date", "Available", "Age",
                                                         "Containers", "Images", "Selector"]
    assert cells("deployments", deploy, "apps") == ["web", "2/3", 3, 2, "4m7s", "web,log", "nginx:1.27,busybox",
                                                    "app=web"]


def test_replicaset_statefulset_daemonset_cells() -> None:
    selector = {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["b", "a"]}]}
    rs = {"metadata": {"name": "rs"}, "spec": {"replicas": 2, "selector": selector, "template": TEMPLATE},
          "status": {"replicas": 2, "readyReplicas": 1}}
    assert cells("replicasets", rs, "apps")[:4] == ["rs", 2, 2, 1]
    assert cells("replicasets", rs, "apps")[-1] == "tier in (a,b)"
    sts = {"metadata": {"name": "db"}, "spec": {"replicas": 3, "template": TEMPLATE}, "status": {"readyReplicas": 3}}
    assert cells("statefulsets", sts, "apps") == ["db", "3/3", "<unknown>", "web,log", "nginx:1.27,busybox"]
    ds = {"metadata": {"name": "ds"}, "spec": {"template": {"spec": {**TEMPLATE["spec"],
                                                                    "nodeSelector": {"os": "linux"}}}},
          "status": {"desiredNumberScheduled": 5, "currentNumberScheduled": 5, "numberReady": 4,
                     "updatedNumberScheduled": 5, "numberAvailable": 4}}
    assert cells("daemonsets", ds, "apps")[:8] == ["ds", 5, 5, 4, 5, 4, "os=linux", "<unknown>"]
    assert cells("daemonsets", ds, "apps")[-1] == "<none>"


@pytest.mark.parametrize(
    ("spec", "status", "deleting", "expected"),
    [
        ({"completions": 1}, {"succeeded": 1, "startTime": ago(minutes=10), "completionTime": ago(minutes=9, seconds=30),
                              "conditions": [{"type": "Complete", "status": "True"}]}, False,
         ["Complete", "1/1", "30s"]),
        ({"completions": 3, "parallelism": 2}, {"succeeded": 1, "startTime": ago(minutes=3)}, False,
         ["Running", "1/3", "3m"]),
        ({"parallelism": 4}, {}, False, ["Running", "0/1 of 4", ""]),
        ({}, {"conditions": [{"type": "Failed", "status": "True"}]}, False, ["Failed", "0/1", ""]),
        ({}, {"conditions": [{"type": "Suspended", "status": "True"}]}, True, ["Terminating", "0/1", ""]),
        ({}, {"conditions": [{"type": "Suspended", "status": "True"}]}, False, ["Suspended", "0/1", ""]),
    ],
)
def test_job_status_completions_duration(spec: dict[str, Any], status: dict[str, Any], deleting: bool,
                                         expected: list[str]) -> None:
    meta: dict[str, Any] = {"name": "job", "creationTimestamp": ago(hours=2)}
    if deleting:
        meta["deletionTimestamp"] = ago(seconds=1)
    job = {"metadata": meta, "spec": {**spec, "template": TEMPLATE}, "status": status}
    assert headers("jobs", "batch") == ["Name", "Status", "Completions", "Duration", "Age"]
    assert cells("jobs", job, "batch")[1:4] == expected


def test_cronjob_cells() -> None:
    cron = {"metadata": {"name": "tick", "creationTimestamp": ago(days=1)},
            "spec": {"schedule": "*/5 * * * *", "suspend": False,
                     "jobTemplate": {"spec": {"template": TEMPLATE}}},
            "status": {"active": [{"name": "tick-1"}], "lastScheduleTime": ago(minutes=3)}}
    assert headers("cronjobs", "batch") == ["Name", "Schedule", "Timezone", "Suspend", "Active", "Last Schedule",
                                            "Age"]
    assert cells("cronjobs", cron, "batch")[:7] == ["tick", "*/5 * * * *", "<none>", "False", 1, "3m", "24h"]


def test_hpa_targets() -> None:
    hpa = {"metadata": {"name": "h"},
           "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 10, "metrics": [
               {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization",
                                                                          "averageUtilization": 80}}},
               {"type": "Resource", "resource": {"name": "memory", "target": {"averageValue": "100Mi"}}},
               {"type": "Pods", "pods": {"target": {"averageValue": "1k"}}}]},
           "status": {"currentReplicas": 2, "currentMetrics": [
               {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 50}}}]}}
    assert cells("horizontalpodautoscalers", hpa, "autoscaling")[:6] == [
        "h", "Deployment/web", "cpu: 50%/80%, memory: <unknown>/100Mi + 1 more...", "<unset>", 10, 2]


# --- storage, policy, RBAC, default --------------------------------------------------------------


def test_pvc_and_pv_cells() -> None:
    pvc = {"metadata": {"name": "data"},
           "spec": {"volumeName": "pv-1", "storageClassName": "standard", "resources": {"requests": {"storage": "1Gi"}}},
           "status": {"phase": "Bound", "capacity": {"storage": "2Gi"},
                      "accessModes": ["ReadWriteMany", "ReadWriteOnce"]}}
    assert cells("persistentvolumeclaims", pvc) == ["data", "Bound", "pv-1", "2Gi", "RWO,RWX", "standard", "<unset>",
                                                    "<unknown>", "<unset>"]
    pending = {"metadata": {"name": "p"}, "spec": {}, "status": {"phase": "Pending"}}
    assert cells("persistentvolumeclaims", pending)[1:6] == ["Pending", "", "", "", ""]
    pv = {"metadata": {"name": "pv-1"},
          "spec": {"capacity": {"storage": "2Gi"}, "accessModes": ["ReadWriteOnce"], "storageClassName": "standard",
                   "persistentVolumeReclaimPolicy": "Retain", "claimRef": {"namespace": "default", "name": "data"}},
          "status": {"phase": "Bound"}}
    assert cells("persistentvolumes", pv) == ["pv-1", "2Gi", "RWO", "Retain", "Bound", "default/data", "standard",
                                              "<unset>", "", "<unknown>", "<unset>"]


def test_storage_class_default_marker() -> None:
    sc = {"metadata": {"name": "standard", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
          "provisioner": "rancher.io/local-path", "volumeBindingMode": "WaitForFirstConsumer"}
    assert cells("storageclasses", sc, "storage.k8s.io")[:5] == [
        "standard (default)", "rancher.io/local-path", "Delete", "WaitForFirstConsumer", False]


def test_pdb_quota_priorityclass_netpol_ingress() -> None:
    pdb = {"metadata": {"name": "pdb"}, "spec": {"minAvailable": "50%"}, "status": {"disruptionsAllowed": 1}}
    assert cells("poddisruptionbudgets", pdb, "policy")[:4] == ["pdb", "50%", "N/A", 1]
    quota = {"metadata": {"name": "q"}, "status": {"hard": {"pods": "10", "limits.cpu": "4", "requests.cpu": "2"},
                                                   "used": {"pods": "3"}}}
    assert cells("resourcequotas", quota)[:3] == ["q", "pods: 3/10, requests.cpu: 0/2", "limits.cpu: 0/4"]
    pc = {"metadata": {"name": "high"}, "value": 1000, "preemptionPolicy": "Never"}
    assert cells("priorityclasses", pc, "scheduling.k8s.io") == ["high", 1000, False, "<unknown>", "Never"]
    netpol = {"metadata": {"name": "deny"}, "spec": {"podSelector": {}}}
    assert cells("networkpolicies", netpol, "networking.k8s.io")[:2] == ["deny", "<none>"]
    ingress = {"metadata": {"name": "ing"},
               "spec": {"rules": [{"host": "a.example"}, {}], "tls": [{"hosts": ["a.example"]}]},
               "status": {"loadBalancer": {"ingress": [{"ip": "1.1.1.1"}]}}}
    assert cells("ingresses", ingress, "networking.k8s.io")[:5] == ["ing", "<none>", "a.example", "1.1.1.1", "80, 443"]


def test_rbac_bindings_and_default_printer() -> None:
    binding = {"metadata": {"name": "b"}, "roleRef": {"kind": "ClusterRole", "name": "view"},
               "subjects": [{"kind": "User", "name": "alice"}, {"kind": "User", "name": "bob"},
                            {"kind": "ServiceAccount", "namespace": "kube-system", "name": "default"}]}
    assert cells("clusterrolebindings", binding, "rbac.authorization.k8s.io") == [
        "b", "ClusterRole/view", "<unknown>", "alice, bob", "", "kube-system/default"]
    role = {"metadata": {"name": "r", "creationTimestamp": "2026-11-27T10:00:00Z"}}
    assert headers("roles", "rbac.authorization.k8s.io") == ["Name", "Created At"]
    assert cells("roles", role, "rbac.authorization.k8s.io") == ["r", "2026-11-27T10:00:00Z"]
    assert headers("customresourcedefinitions", "apiextensions.k8s.io") == ["Name", "Created At"]


def test_csr_condition() -> None:
    csr = {"metadata": {"name": "c"}, "spec": {"signerName": "kubernetes.io/kube-apiserver-client",
                                               "username": "alice", "expirationSeconds": 86400},
           "status": {"conditions": [{"type": "Approved"}], "certificate": "Zm9v"}}
    assert cells("certificatesigningrequests", csr, "certificates.k8s.io") == [
        "c", "<unknown>", "kubernetes.io/kube-apiserver-client", "alice", "24h", "Approved,Issued"]


# --- custom resources -----------------------------------------------------------------------------

PRINTER_COLUMNS: list[dict[str, Any]] = [
    {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"},
    {"name": "Ratio", "type": "number", "jsonPath": ".spec.ratio"},
    {"name": "Paused", "type": "boolean", "jsonPath": ".spec.paused"},
    {"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"},
    {"name": "Started", "type": "date", "jsonPath": ".status.startTime"},
    {"name": "Spec", "type": "string", "jsonPath": ".spec.selector", "priority": 1, "description": "the selector"},
]


def widget(**spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": "w", "creationTimestamp": ago(hours=3)}, "spec": spec,
            "status": {"startTime": ago(minutes=90), "conditions": [{"type": "Ready", "status": "True"}]}}


def test_custom_resource_columns_follow_the_crd() -> None:
    columns = column_definitions("widgets", "example.com", PRINTER_COLUMNS)
    assert [(c["name"], c["type"], c["priority"]) for c in columns] == [
        ("Name", "string", 0), ("Replicas", "integer", 0), ("Ratio", "number", 0), ("Paused", "boolean", 0),
        ("Ready", "string", 0), ("Started", "date", 0), ("Spec", "string", 1)]
    assert columns[1]["description"] == "Custom resource definition column (in JSONPath format): .spec.replicas"
    assert columns[6]["description"] == "the selector"


def test_custom_resource_cells_are_typed_and_dates_become_ages() -> None:
    obj = widget(replicas=3, ratio=2, paused=False, selector={"app": "w"})
    assert rows("widgets", "example.com", [obj], NOW, printer_columns=PRINTER_COLUMNS)[0]["cells"] == [
        "w", 3, 2.0, False, "True", "90m", '{"app":"w"}']


def test_custom_resource_cells_missing_or_mistyped_are_null() -> None:
    obj = widget(replicas="three", paused="yes")
    obj["status"]["startTime"] = "yesterday"
    assert rows("widgets", "example.com", [obj], NOW, printer_columns=PRINTER_COLUMNS)[0]["cells"] == [
        "w", None, None, None, "True", "<invalid>", None]


def test_custom_resource_without_columns_gets_age() -> None:
    result = table("widgets", "example.com", [widget()], NOW, printer_columns=[])
    assert [(c["name"], c["type"]) for c in result["columnDefinitions"]] == [("Name", "string"), ("Age", "date")]
    assert result["rows"][0]["cells"] == ["w", "3h"]


# --- end to end: the real kubectl (1.32 via the dispatcher, and 1.37) against `kwok apiserver` ------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from tests.apiserver.harness import ApiServer

    started = ApiServer(tmp_path_factory.mktemp("tables")).start()
    yield started
    started.stop()


def _kubectl_json(server: Any, kubectl_bin: str, *args: str, stdin: dict[str, Any]) -> None:
    import json

    server.kubectl(kubectl_bin, *args, stdin=json.dumps(stdin))


def test_kubectl_get_prints_the_server_side_columns(server: Any, kubectl_bin: str) -> None:
    import uuid

    suffix = uuid.uuid4().hex[:6]
    node = {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": f"n-{suffix}", "labels": {"node-role.kubernetes.io/control-plane": ""}},
            "spec": {"unschedulable": True}}
    _kubectl_json(server, kubectl_bin, "create", "-f", "-", stdin=node)
    wide = server.kubectl(kubectl_bin, "get", "node", f"n-{suffix}", "-o", "wide").stdout.splitlines()
    assert wide[0].split() == ["NAME", "STATUS", "ROLES", "AGE", "VERSION", "INTERNAL-IP", "EXTERNAL-IP",
                               "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME"]
    assert wide[1].split()[:3] == [f"n-{suffix}", "Unknown,SchedulingDisabled", "control-plane"]
    assert wide[1].split()[-4:] == ["<none>", "<unknown>", "<unknown>", "<unknown>"]
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"p-{suffix}"},
           "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
    _kubectl_json(server, kubectl_bin, "create", "-f", "-", stdin=pod)
    lines = server.kubectl(kubectl_bin, "get", "pods", "-A", "-o", "wide").stdout.splitlines()
    assert lines[0].split() == ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE",
                                "NOMINATED", "NODE", "READINESS", "GATES"]
    row = next(line.split() for line in lines if f"p-{suffix}" in line)
    assert row[:5] == ["default", f"p-{suffix}", "0/1", "Pending", "0"]
    assert row[-4:] == ["<none>", "<none>", "<none>", "<none>"]


def _crd(group: str) -> dict[str, Any]:
    schema = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    return {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": f"widgets.{group}"},
        "spec": {"group": group, "scope": "Namespaced",
                 "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
                 "versions": [{"name": "v1", "served": True, "storage": True,
                               "schema": {"openAPIV3Schema": schema},
                               "additionalPrinterColumns": [
                                   {"name": "Size", "type": "integer", "jsonPath": ".spec.size"},
                                   {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
                                   {"name": "Started", "type": "date", "jsonPath": ".status.started"},
                                   {"name": "Tags", "type": "string", "jsonPath": ".spec.tags", "priority": 1}]}]},
    }


def test_kubectl_get_custom_resources_uses_printer_columns(server: Any, kubectl_bin: str) -> None:
    import time
    import uuid

    group = f"g{uuid.uuid4().hex[:6]}.example.com"
    _kubectl_json(server, kubectl_bin, "create", "-f", "-", stdin=_crd(group))
    widget = {"apiVersion": f"{group}/v1", "kind": "Widget", "metadata": {"name": "w1"},
              "spec": {"size": 3, "tags": ["a", "b"]},
              "status": {"phase": "Ready", "started": (datetime.now(UTC) - timedelta(minutes=7)).strftime(
                  "%Y-%m-%dT%H:%M:%SZ")}}
    deadline = time.monotonic() + 10
    while server.kubectl(kubectl_bin, "create", "-f", "-", stdin=__import__("json").dumps(widget),
                         check=False).returncode != 0:
        assert time.monotonic() < deadline, "the CRD was never served"
        time.sleep(0.2)
    lines = server.kubectl(kubectl_bin, "get", f"widgets.{group}", "-o", "wide").stdout.splitlines()
    assert lines[0].split() == ["NAME", "SIZE", "PHASE", "STARTED", "TAGS"]
    row = lines[1].split()
    assert row[:3] == ["w1", "3", "Ready"] and row[4] == '["a","b"]'
    assert row[3].startswith("7m")  # "7m", or "7m1s" when the clock ticked meanwhile


def test_autoscaling_v1_hpa_and_events_k8s_io_events() -> None:
    hpa = {"metadata": {"name": "h"}, "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"},
                                                "minReplicas": 1, "maxReplicas": 5,
                                                "targetCPUUtilizationPercentage": 70},
           "status": {"currentReplicas": 1, "currentCPUUtilizationPercentage": 12}}
    assert cells("horizontalpodautoscalers", hpa, "autoscaling")[2:6] == ["cpu: 12%/70%", "1", 5, 1]
    event = {"metadata": {"name": "e"}, "type": "Warning", "reason": "BackOff", "note": "Back-off restarting",
             "regarding": {"kind": "Pod", "name": "p"}, "reportingController": "kubelet",
             "reportingInstance": "n1", "eventTime": "2026-11-27T11:58:00.000000Z",
             "deprecatedLastTimestamp": ago(seconds=20), "deprecatedCount": 4}
    assert cells("events", event, "events.k8s.io") == ["20s", "Warning", "BackOff", "pod/p", "", "kubelet, n1",
                                                        "Back-off restarting", "2m", 4, "e"]


def test_kinds_without_a_printer_show_name_and_age() -> None:
    obj = {"metadata": {"name": "thing", "creationTimestamp": ago(minutes=3)}}
    assert headers("gizmos", "example.com") == ["Name", "Age"]
    assert cells("gizmos", obj, "example.com") == ["thing", "3m"]
    assert cells("limitranges", obj) == ["thing", (NOW - timedelta(minutes=3)).strftime("%Y-%m-%dT%H:%M:%SZ")]


def test_ingress_hosts_skip_empty_rules_and_count_the_rest() -> None:
    rules = [{"host": "a"}, {}, {"host": "b"}, {"host": "c"}, {"host": "d"}]
    ingress = {"metadata": {"name": "i"}, "spec": {"rules": rules}}
    assert cells("ingresses", ingress, "networking.k8s.io")[2] == "a,b,c + 2 more..."
    assert cells("ingresses", {"metadata": {"name": "i"}, "spec": {"rules": [{}]}}, "networking.k8s.io")[2] == "*"


def test_singular_pod_and_cluster_ips_are_used_when_the_lists_are_absent() -> None:
    p = pod({"phase": "Running", "podIP": "10.1.1.1"})
    assert cells("pods", p)[5] == "10.1.1.1"
    headless = {"metadata": {"name": "h"}, "spec": {"type": "ClusterIP", "clusterIP": "None"}}
    assert cells("services", headless)[2] == "None"


def test_less_common_kinds() -> None:
    meta = {"name": "x", "creationTimestamp": ago(seconds=5)}
    attachment = {"metadata": meta, "spec": {"attacher": "csi.example", "nodeName": "n1",
                                             "source": {"persistentVolumeName": "pv1"}}, "status": {"attached": True}}
    assert cells("volumeattachments", attachment, "storage.k8s.io") == ["x", "csi.example", "pv1", "n1", True, "5s"]
    driver = {"metadata": meta, "spec": {"volumeLifecycleModes": ["Persistent"]}}
    assert cells("csidrivers", driver, "storage.k8s.io") == ["x", True, False, False, "<unset>", False, "Persistent",
                                                             "5s"]
    fs = [{"metadata": {"name": n}, "spec": {"matchingPrecedence": p, "priorityLevelConfiguration": {"name": "g"}}}
          for n, p in (("b", 500), ("a", 500), ("c", 100))]
    assert [r["cells"][0] for r in rows("flowschemas", "flowcontrol.apiserver.k8s.io", fs, NOW)] == ["c", "a", "b"]
    api = {"metadata": meta, "spec": {"service": {"namespace": "kube-system", "name": "metrics"}},
           "status": {"conditions": [{"type": "Available", "status": "False", "reason": "MissingEndpoints"}]}}
    assert cells("apiservices", api, "apiregistration.k8s.io") == ["x", "kube-system/metrics",
                                                                   "False (MissingEndpoints)", "5s"]
    claim = {"metadata": meta, "status": {"allocation": {}, "reservedFor": [{"name": "p"}]}}
    assert cells("resourceclaims", claim, "resource.k8s.io") == ["x", "allocated,reserved", "5s"]


# Sidecar (restartable init container) cases of upstream's printers_test.go, as objects.
SIDECARS = {"initContainers": [{"name": "side-1", "restartPolicy": "Always"},
                               {"name": "side-2", "restartPolicy": "Always"}], "containers": [{"name": "app"}]}


def _sidecar(name: str, state: dict[str, Any], started: bool, restarts: int = 0,
             finished: str | None = None) -> dict[str, Any]:
    status = {"name": name, "ready": False, "restartCount": restarts, "state": state, "started": started}
    if finished:
        status["lastState"] = {"terminated": {"finishedAt": finished}}
    return status


@pytest.mark.parametrize(
    ("phase", "initialized", "inits", "app", "expected"),
    [
        ("Pending", "False", [_sidecar("side-1", {"running": {}}, False, 3, ago(seconds=10)),
                              _sidecar("side-2", {"waiting": {}}, False)],
         {"name": "app", "state": {"waiting": {}}}, ["0/3", "Init:0/2", "3 (10s ago)"]),
        ("Pending", "False", [_sidecar("side-1", {"running": {}}, True, 3, ago(seconds=10)),
                              _sidecar("side-2", {"running": {}}, False)],
         {"name": "app", "state": {"waiting": {}}}, ["0/3", "Init:1/2", "3 (10s ago)"]),
        ("Running", "True", [_sidecar("side-1", {"running": {}}, True, 3, ago(seconds=10)),
                             _sidecar("side-2", {"running": {}}, True)],
         {"name": "app", "ready": True, "restartCount": 4, "state": {"running": {}},
          "lastState": {"terminated": {"finishedAt": ago(seconds=20)}}}, ["1/3", "Running", "7 (10s ago)"]),
        ("Succeeded", "True", [_sidecar("side-1", {"terminated": {"reason": "Error", "exitCode": 137}}, False, 3,
                                        ago(seconds=10)),
                               _sidecar("side-2", {"terminated": {"reason": "Error", "exitCode": 137}}, False)],
         {"name": "app", "restartCount": 4, "state": {"terminated": {"reason": "Completed", "exitCode": 0}},
          "lastState": {"terminated": {"finishedAt": ago(seconds=20)}}}, ["0/3", "Completed", "7 (10s ago)"]),
    ],
)
def test_sidecar_pods_as_upstream_prints_them(phase: str, initialized: str, inits: list[dict[str, Any]],
                                              app: dict[str, Any], expected: list[str]) -> None:
    status = {"phase": phase, "initContainerStatuses": inits, "containerStatuses": [app],
              "conditions": [{"type": "Initialized", "status": initialized}]}
    assert cells("pods", pod(status, SIDECARS))[1:4] == expected


def test_statuses_of_unknown_containers_do_not_count() -> None:
    spec = {"initContainers": [{"name": "init1"}, {"name": "side", "restartPolicy": "Always"}],
            "containers": [{"name": "c1"}]}
    status = {"phase": "Running", "initContainerStatuses": [{"name": "bogus"}, {"name": "init1"}, {"name": "side"}],
              "containerStatuses": [{"name": "bogus"}, {"name": "c1"}]}
    assert cells("pods", pod(status, spec))[1:4] == ["0/2", "Init:0/2", "0"]


@pytest.mark.parametrize("obj", [{}, {"metadata": {"name": "x"}, "spec": None, "status": None},
                                 {"metadata": {"name": "x", "deletionTimestamp": "garbage"}, "spec": {}, "status": {}}])
def test_every_printer_fills_one_cell_per_column_even_for_sparse_objects(obj: dict[str, Any]) -> None:
    from kwok.api.tables import PRINTERS

    for group, resource in PRINTERS:
        width = len(column_definitions(resource, group))
        # upstream's IPAddress printer emits an Age cell it has no column for
        expected = width + 1 if resource == "ipaddresses" else width
        assert len(cells(resource, obj, group)) == expected, (group, resource)


def test_column_descriptions_are_the_field_docs_upstream_cites() -> None:
    from kwok.api.tables import swagger_doc

    meta = "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    columns = {c["name"]: c["description"] for c in column_definitions("pods", "")}
    assert columns["Name"] == swagger_doc(f"{meta}.name")
    assert columns["Age"] == swagger_doc(f"{meta}.creationTimestamp")
    assert columns["Age"].endswith("in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: "
                                   "https://git.k8s.io/community/contributors/devel/sig-architecture/"
                                   "api-conventions.md#metadata")
    assert columns["IP"] == ("podIP address allocated to the pod. Routable at least within the cluster. "
                             "Empty if not yet allocated.")
    assert columns["Ready"] == "The aggregate readiness state of this pod for accepting traffic."
    wide = {c["name"]: c["description"] for c in column_definitions("deployments", "apps")}
    assert wide["Containers"] == "Names of each container in the template."
