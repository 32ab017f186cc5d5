"""Default admission plugins, each on its own against an in-memory Lookup."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest

from kwok.api.errors import ApiError
from kwok.apiserver.admission import (
    DefaultTolerationSeconds,
    LimitRanger,
    NamespaceLifecycle,
    Priority,
    ResourceQuota,
    ServiceAccount,
    ServiceAllocation,
    default_plugins,
)
from kwok.apiserver.registry import AdmissionPlugin, AdmissionRequest

from .helpers import MemoryLookup, admission_request, create, pod


def run(plugin: AdmissionPlugin, req: AdmissionRequest, lookup: MemoryLookup) -> None:
    async def both() -> None:
        if plugin.handles(req):
            await plugin.admit(req, lookup)
            await plugin.validate(req, lookup)
    asyncio.run(both())


def refusal(plugin: AdmissionPlugin, req: AdmissionRequest, lookup: MemoryLookup) -> ApiError:
    with pytest.raises(ApiError) as caught:
        run(plugin, req, lookup)
    return caught.value


def namespace(name: str, phase: str = "Active") -> tuple[str, str, dict[str, Any]]:
    return "", "namespaces", {"metadata": {"name": name}, "status": {"phase": phase}}


def new_pod(*containers: dict[str, Any], namespace: str = "default", **spec: Any) -> AdmissionRequest:
    obj, _ = create("", "pods", pod("p", *containers, **spec), namespace=namespace)
    return admission_request("CREATE", "", "pods", obj, namespace=namespace)


def test_chain_order_is_the_real_one() -> None:
    names = [p.name for p in default_plugins()]
    real = ["NamespaceLifecycle", "LimitRanger", "ServiceAccount", "Priority", "DefaultTolerationSeconds",
            "ResourceQuota"]
    assert [n for n in names if n in real] == real


def test_namespace_must_exist_and_not_be_terminating() -> None:
    plugin = NamespaceLifecycle()
    err = refusal(plugin, new_pod(namespace="ghost"), MemoryLookup())
    assert (err.code, err.message) == (404, 'namespaces "ghost" not found')
    err = refusal(plugin, new_pod(namespace="old"), MemoryLookup(namespace("old", "Terminating")))
    assert err.code == 403
    assert err.message == 'pods "p" is forbidden: unable to create new content in namespace old because it is ' \
                          "being terminated"
    assert err.status["details"]["causes"][0]["reason"] == "NamespaceTerminating"
    run(plugin, new_pod(namespace="ok"), MemoryLookup(namespace("ok")))


def test_system_namespaces_cannot_be_deleted() -> None:
    req = admission_request("DELETE", "", "namespaces", None, old={"metadata": {"name": "kube-system"}})
    req.name = "kube-system"
    err = refusal(NamespaceLifecycle(), req, MemoryLookup())
    assert err.message == 'namespaces "kube-system" is forbidden: this namespace may not be deleted'


def test_limit_ranger_defaults_and_annotates() -> None:
    lr = {"metadata": {"name": "l", "namespace": "default"}, "spec": {"limits": [
        {"type": "Container", "default": {"cpu": "500m"}, "defaultRequest": {"cpu": "100m", "memory": "64Mi"}}]}}
    req = new_pod()
    run(LimitRanger(), req, MemoryLookup(("", "limitranges", lr)))
    assert req.obj is not None
    assert req.obj["spec"]["containers"][0]["resources"] == {"limits": {"cpu": "500m"},
                                                             "requests": {"cpu": "100m", "memory": "64Mi"}}
    assert req.obj["metadata"]["annotations"]["kubernetes.io/limit-ranger"] == \
        "LimitRanger plugin set: cpu, memory request for container c; cpu limit for container c"


def test_limit_ranger_refuses_out_of_bounds_containers() -> None:
    lr = {"metadata": {"name": "l", "namespace": "default"}, "spec": {"limits": [
        {"type": "Container", "max": {"cpu": "500m"}, "min": {"memory": "1Gi"}}]}}
    req = new_pod({"name": "c", "image": "x", "resources": {"limits": {"cpu": "1", "memory": "2Gi"},
                                                             "requests": {"memory": "512Mi"}}})
    err = refusal(LimitRanger(), req, MemoryLookup(("", "limitranges", lr)))
    assert err.message == 'pods "p" is forbidden: [minimum memory usage per Container is 1Gi, but request is ' \
                          "512Mi, maximum cpu usage per Container is 500m, but limit is 1]"


def test_limit_ranger_measures_a_pod_as_it_runs() -> None:
    """Type Pod bounds: an init container runs alone (the largest moment counts, not the sum), a
    sidecar adds to everything after it, and pod-level resources replace the containers' total."""
    lr = {"metadata": {"name": "l", "namespace": "default"}, "spec": {"limits": [
        {"type": "Pod", "max": {"cpu": "1"}}]}}
    lookup = MemoryLookup(("", "limitranges", lr))

    def c(name: str, cpu: str, **extra: str) -> dict[str, object]:
        return {"name": name, "image": "x", "resources": {"limits": {"cpu": cpu}}, **extra}

    init = new_pod(c("app", "600m"), initContainers=[c("setup", "900m")])
    run(LimitRanger(), init, lookup)          # max(600m, 900m): within 1
    sidecar = new_pod(c("app", "600m"), initContainers=[c("proxy", "500m", restartPolicy="Always")])
    err = refusal(LimitRanger(), sidecar, lookup)
    assert err.message == 'pods "p" is forbidden: maximum cpu usage per Pod is 1, but limit is 1100m'
    pod_level = new_pod(c("a", "600m"), c("b", "600m"), resources={"limits": {"cpu": "800m"}})
    run(LimitRanger(), pod_level, lookup)     # the pod-level 800m, not 1200m


def test_service_account_defaults_and_must_exist() -> None:
    req = new_pod()
    run(ServiceAccount(), req, MemoryLookup())
    assert req.obj is not None and req.obj["spec"]["serviceAccountName"] == "default"
    err = refusal(ServiceAccount(), new_pod(serviceAccountName="robot"), MemoryLookup())
    assert err.message == 'pods "p" is forbidden: error looking up service account default/robot: ' \
                          'serviceaccount "robot" not found'
    sa = {"metadata": {"name": "robot", "namespace": "default"}, "imagePullSecrets": [{"name": "reg"}]}
    req = new_pod(serviceAccountName="robot")
    run(ServiceAccount(), req, MemoryLookup(("", "serviceaccounts", sa)))
    assert req.obj is not None and req.obj["spec"]["imagePullSecrets"] == [{"name": "reg"}]


def test_priority_resolves_classes_and_the_global_default() -> None:
    high = {"metadata": {"name": "high"}, "value": 1000, "preemptionPolicy": "Never"}
    base = {"metadata": {"name": "base"}, "value": 10, "globalDefault": True}
    lookup = MemoryLookup(("scheduling.k8s.io", "priorityclasses", high), ("scheduling.k8s.io", "priorityclasses", base))
    req = new_pod(priorityClassName="high")
    run(Priority(), req, lookup)
    assert req.obj is not None and (req.obj["spec"]["priority"], req.obj["spec"]["preemptionPolicy"]) == (1000, "Never")
    req = new_pod()
    run(Priority(), req, lookup)
    assert req.obj is not None and (req.obj["spec"]["priorityClassName"], req.obj["spec"]["priority"]) == ("base", 10)
    req = new_pod()
    run(Priority(), req, MemoryLookup())
    assert req.obj is not None and req.obj["spec"]["priority"] == 0
    req = new_pod(priorityClassName="system-node-critical")
    run(Priority(), req, MemoryLookup())
    assert req.obj is not None and req.obj["spec"]["priority"] == 2000001000
    err = refusal(Priority(), new_pod(priorityClassName="nope"), MemoryLookup())
    assert err.message == 'pods "p" is forbidden: no PriorityClass with name nope was found'


def test_only_one_global_default_priority_class() -> None:
    base = {"metadata": {"name": "base"}, "value": 10, "globalDefault": True}
    req = admission_request("CREATE", "scheduling.k8s.io", "priorityclasses",
                            {"metadata": {"name": "other"}, "value": 5, "globalDefault": True})
    err = refusal(Priority(), req, MemoryLookup(("scheduling.k8s.io", "priorityclasses", base)))
    assert err.message.endswith("PriorityClass base is already marked as default. Only one default can exist")


def test_default_toleration_seconds() -> None:
    req = new_pod()
    run(DefaultTolerationSeconds(), req, MemoryLookup())
    assert req.obj is not None and req.obj["spec"]["tolerations"] == [
        {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
         "tolerationSeconds": 300}]
    req = new_pod(tolerations=[{"operator": "Exists"}])
    run(DefaultTolerationSeconds(), req, MemoryLookup())
    assert req.obj is not None and req.obj["spec"]["tolerations"] == [{"operator": "Exists"}]


def quota(**hard: str) -> tuple[str, str, dict[str, Any]]:
    return "", "resourcequotas", {"metadata": {"name": "q", "namespace": "default"}, "spec": {"hard": hard}}


def running_pod(name: str, cpu: str) -> tuple[str, str, dict[str, Any]]:
    obj = pod(name, {"name": "c", "image": "x", "resources": {"requests": {"cpu": cpu}, "limits": {"cpu": cpu}}})
    obj["metadata"]["namespace"] = "default"
    obj["status"] = {"phase": "Running"}
    return "", "pods", obj


def test_resource_quota_refuses_with_the_real_message() -> None:
    lookup = MemoryLookup(quota(pods="2", **{"requests.cpu": "1"}), running_pod("a", "600m"))
    err = refusal(ResourceQuota(), new_pod({"name": "c", "image": "x", "resources": {"requests": {"cpu": "500m"}}}),
                  lookup)
    assert err.code == 403
    assert err.message == 'pods "p" is forbidden: exceeded quota: q, requested: requests.cpu=500m, used: ' \
                          "requests.cpu=600m, limited: requests.cpu=1"


def test_resource_quota_counts_and_records_usage() -> None:
    lookup = MemoryLookup(quota(pods="2"), running_pod("a", "1"))
    run(ResourceQuota(), new_pod(), lookup)
    assert lookup.status_writes[-1]["status"] == {"hard": {"pods": "2"}, "used": {"pods": "2"}}
    finished = running_pod("b", "1")
    finished[2]["status"]["phase"] = "Succeeded"   # finished pods do not count
    lookup = MemoryLookup(quota(pods="2"), running_pod("a", "1"), finished)
    run(ResourceQuota(), new_pod(), lookup)
    lookup.objects[("", "pods")].append(running_pod("c", "1")[2])
    err = refusal(ResourceQuota(), new_pod(), lookup)
    assert "exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2" in err.message


def test_resource_quota_charges_sidecars_as_the_scheduler_does() -> None:
    # a sidecar runs beside the init container after it: 200m + 900m, not max(100m, 200m, 900m)
    req = new_pod({"name": "app", "image": "x", "resources": {"requests": {"cpu": "100m"}}},
                  initContainers=[{"name": "proxy", "image": "x", "restartPolicy": "Always",
                                   "resources": {"requests": {"cpu": "200m"}}},
                                  {"name": "migrate", "image": "x", "resources": {"requests": {"cpu": "900m"}}}])
    err = refusal(ResourceQuota(), req, MemoryLookup(quota(**{"requests.cpu": "1"})))
    assert err.message == 'pods "p" is forbidden: exceeded quota: q, requested: requests.cpu=1100m, used: ' \
                          "requests.cpu=0, limited: requests.cpu=1"


def test_resource_quota_object_count_includes_finished_pods() -> None:
    finished = running_pod("b", "1")
    finished[2]["status"]["phase"] = "Succeeded"
    err = refusal(ResourceQuota(), new_pod(), MemoryLookup(quota(**{"count/pods": "1"}), finished))
    assert "exceeded quota: q, requested: count/pods=1, used: count/pods=1, limited: count/pods=1" in err.message


def test_resource_quota_requires_stated_limits() -> None:
    err = refusal(ResourceQuota(), new_pod(), MemoryLookup(quota(**{"limits.memory": "1Gi"})))
    assert err.message == 'pods "p" is forbidden: failed quota: q: must specify limits.memory for: c'


def test_resource_quota_counts_other_kinds() -> None:
    cm = {"metadata": {"name": "a", "namespace": "default"}}
    req = admission_request("CREATE", "", "configmaps", {"metadata": {"name": "b", "namespace": "default"}})
    err = refusal(ResourceQuota(), req, MemoryLookup(quota(configmaps="1"), ("", "configmaps", cm)))
    assert err.message == 'configmaps "b" is forbidden: exceeded quota: q, requested: configmaps=1, used: ' \
                          "configmaps=1, limited: configmaps=1"


def svc_request(name: str, **spec: Any) -> AdmissionRequest:
    obj, _ = create("", "services", {"metadata": {"name": name, "uid": name},
                                     "spec": {"ports": [{"port": 80}], "selector": {"a": "b"}, **spec}})
    return admission_request("CREATE", "", "services", obj)


def test_service_allocation_assigns_free_addresses() -> None:
    plugin = ServiceAllocation(rng=random.Random(1))
    taken = {"metadata": {"name": "kubernetes", "namespace": "default", "uid": "k"},
             "spec": {"clusterIP": "10.96.0.1", "ports": [{"port": 443}]}}
    lookup = MemoryLookup(("", "services", taken))
    first, second = svc_request("a", type="NodePort"), svc_request("b", type="NodePort")
    run(plugin, first, lookup)
    run(plugin, second, lookup)   # not stored yet: must still differ
    assert first.obj is not None and second.obj is not None
    a, b = first.obj["spec"], second.obj["spec"]
    assert a["clusterIP"] != b["clusterIP"] and a["clusterIP"].startswith("10.")
    assert a["clusterIPs"] == [a["clusterIP"]] and a["ipFamilies"] == ["IPv4"] and a["ipFamilyPolicy"] == "SingleStack"
    assert 30000 <= a["ports"][0]["nodePort"] <= 32767 and a["ports"][0]["nodePort"] != b["ports"][0]["nodePort"]
    with pytest.raises(ApiError) as caught:
        run(plugin, svc_request("c", clusterIP="10.96.0.1"), lookup)
    assert caught.value.message == 'Service "c" is invalid: spec.clusterIPs[0]: Invalid value: "10.96.0.1": ' \
                                   "failed to allocate IP 10.96.0.1: provided IP is already allocated"


def test_headless_service_without_selector_is_dual_stack_capable() -> None:
    req = svc_request("h", clusterIP="None", selector=None)
    run(ServiceAllocation(), req, MemoryLookup())
    assert req.obj is not None and req.obj["spec"]["ipFamilyPolicy"] == "RequireDualStack"
    assert req.obj["spec"]["clusterIPs"] == ["None"]


def test_default_storage_class_fills_unclassed_claims() -> None:
    from kwok.apiserver.admission import DefaultStorageClass

    standard = {"metadata": {"name": "standard", "creationTimestamp": "2026-01-01T00:00:00Z",
                             "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
                "provisioner": "x"}
    slow = {"metadata": {"name": "slow"}, "provisioner": "x"}
    lookup = MemoryLookup(("storage.k8s.io", "storageclasses", standard), ("storage.k8s.io", "storageclasses", slow))
    claim = {"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"]}}
    req = admission_request("CREATE", "", "persistentvolumeclaims", claim)
    run(DefaultStorageClass(), req, lookup)
    assert claim["spec"]["storageClassName"] == "standard"
    explicit = {"metadata": {"name": "d2"}, "spec": {"storageClassName": ""}}
    run(DefaultStorageClass(), admission_request("CREATE", "", "persistentvolumeclaims", explicit), lookup)
    assert explicit["spec"]["storageClassName"] == ""


def test_service_update_keeps_its_own_addresses() -> None:
    plugin, lookup = ServiceAllocation(), MemoryLookup()
    created = svc_request("a", type="NodePort")
    run(plugin, created, lookup)
    assert created.obj is not None
    stored = created.obj
    changed = {**stored, "spec": {**stored["spec"], "ports": [{**stored["spec"]["ports"][0], "targetPort": 9090}]}}
    update = admission_request("UPDATE", "", "services", changed, old=stored)
    run(plugin, update, lookup)   # within the pending window: its own IP and port are not "in use"
    assert update.obj is not None and update.obj["spec"]["clusterIP"] == stored["spec"]["clusterIP"]


def test_new_quota_starts_with_measured_usage() -> None:
    _, _, new_quota = quota(pods="5", **{"requests.cpu": "2", "count/deployments.apps": "3"})
    new_quota = {**new_quota, "metadata": {"name": "q", "namespace": "default"}}
    req = admission_request("CREATE", "", "resourcequotas", new_quota)
    run(ResourceQuota(), req, MemoryLookup(running_pod("a", "500m"), running_pod("b", "250m")))
    assert new_quota["status"] == {"hard": {"pods": "5", "requests.cpu": "2", "count/deployments.apps": "3"},
                                   "used": {"pods": "2", "requests.cpu": "750m", "count/deployments.apps": "0"}}
