"""What users see through the real kubectl: server defaults, admission refusals, CRDs, scale, eviction."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

from tests.apiserver.harness import ApiServer
from tests.conftest import SHARED_DIR

KWOK_CRDS = Path(SHARED_DIR + "/upstream/kwok/kustomize/crd/bases")
KUBECTL_132 = "/usr/bin/kubectl"


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def _get(apiserver: ApiServer, kubectl_bin: str, *args: str) -> Any:
    return json.loads(apiserver.kubectl(kubectl_bin, "get", *args, "-o", "json").stdout)


def _namespace(apiserver: ApiServer) -> str:
    ns = _name("ns")
    apiserver.kubectl(KUBECTL_132, "create", "namespace", ns)
    return ns


def test_create_deployment_shows_the_real_defaults(apiserver: ApiServer, kubectl_bin: str) -> None:
    name = _name("web")
    apiserver.kubectl(kubectl_bin, "create", "deployment", name, "--image=nginx")
    obj = _get(apiserver, kubectl_bin, "deployment", name)
    spec = obj["spec"]
    assert obj["metadata"]["generation"] == 1
    assert (spec["replicas"], spec["revisionHistoryLimit"], spec["progressDeadlineSeconds"]) == (1, 10, 600)
    assert spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}
    pod_spec = spec["template"]["spec"]
    assert pod_spec["containers"][0]["imagePullPolicy"] == "Always"
    assert (pod_spec["restartPolicy"], pod_spec["schedulerName"]) == ("Always", "default-scheduler")


def test_run_pod_gets_admission_defaults(apiserver: ApiServer, kubectl_bin: str) -> None:
    name = _name("pod")
    apiserver.kubectl(kubectl_bin, "run", name, "--image=nginx:1.25")
    obj = _get(apiserver, kubectl_bin, "pod", name)
    spec = obj["spec"]
    assert (spec["serviceAccountName"], spec["priority"], spec["enableServiceLinks"]) == ("default", 0, True)
    assert [t["key"] for t in spec["tolerations"]] == ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"]
    assert obj["status"] == {"phase": "Pending", "qosClass": "BestEffort"}


def test_quantities_come_back_in_canonical_form(apiserver: ApiServer, kubectl_bin: str) -> None:
    """As the real server decodes and re-encodes every resource.Quantity: a YAML number becomes a
    string, a decimal or a non-canonical suffix is rewritten, a canonical string is kept as written;
    pod-level limits fill in the pod-level requests."""
    name = _name("qty")
    manifest = f"""
apiVersion: v1
kind: Pod
metadata: {{name: {name}}}
spec:
  resources: {{limits: {{cpu: 2, memory: 1.5Gi}}}}
  containers:
  - name: c
    image: nginx
    resources:
      limits: {{cpu: 0.5, memory: 1024Mi, ephemeral-storage: 1G}}
      requests: {{cpu: 250m}}
"""
    apiserver.kubectl(kubectl_bin, "apply", "-f", "-", stdin=manifest)
    obj = _get(apiserver, kubectl_bin, "pod", name)
    assert obj["spec"]["containers"][0]["resources"] == {
        "limits": {"cpu": "500m", "memory": "1Gi", "ephemeral-storage": "1G"},
        "requests": {"cpu": "250m", "memory": "1Gi", "ephemeral-storage": "1G"}}
    assert obj["spec"]["resources"] == {"limits": {"cpu": "2", "memory": "1536Mi"},
                                        "requests": {"cpu": "250m", "memory": "1Gi"}}
    # applying it again: kubectl sends `cpu: 0.5` once more (the live `500m` differs from the manifest,
    # as against a real server: "configured"), the server stores the same canonical object, no new write
    apiserver.kubectl(kubectl_bin, "apply", "-f", "-", stdin=manifest)
    after = _get(apiserver, kubectl_bin, "pod", name)
    assert after["metadata"]["resourceVersion"] == obj["metadata"]["resourceVersion"]
    assert after["spec"]["containers"][0]["resources"]["limits"]["cpu"] == "500m"


def test_invalid_object_is_refused_with_the_field_error(apiserver: ApiServer) -> None:
    result = apiserver.kubectl(KUBECTL_132, "create", "deployment", "Bad_Name", "--image=nginx", check=False)
    assert result.returncode == 1
    assert 'Deployment.apps "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 ' \
           "subdomain" in result.stderr


def test_limit_range_defaults_and_refuses(apiserver: ApiServer) -> None:
    ns = _namespace(apiserver)
    apiserver.kubectl(KUBECTL_132, "apply", "-n", ns, "-f", "-", stdin=json.dumps({
        "apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "limits"},
        "spec": {"limits": [{"type": "Container", "default": {"cpu": "200m"}, "max": {"cpu": "500m"}}]}}))
    apiserver.kubectl(KUBECTL_132, "run", "small", "-n", ns, "--image=nginx")
    obj = _get(apiserver, KUBECTL_132, "pod", "small", "-n", ns)
    assert obj["spec"]["containers"][0]["resources"] == {"limits": {"cpu": "200m"}, "requests": {"cpu": "200m"}}
    assert obj["metadata"]["annotations"]["kubernetes.io/limit-ranger"].startswith("LimitRanger plugin set: cpu")
    big = {"spec": {"containers": [{"name": "big", "image": "nginx", "resources": {"limits": {"cpu": "2"}}}]}}
    result = apiserver.kubectl(KUBECTL_132, "run", "big", "-n", ns, "--image=nginx", f"--overrides={json.dumps(big)}",
                               check=False)
    assert result.returncode == 1
    assert 'Error from server (Forbidden): pods "big" is forbidden: maximum cpu usage per Container is 500m, but ' \
           "limit is 2" in result.stderr


def test_resource_quota_refuses_the_object_over_the_limit(apiserver: ApiServer, kubectl_bin: str) -> None:
    ns = _namespace(apiserver)
    apiserver.kubectl(kubectl_bin, "create", "quota", "small", "-n", ns, "--hard=configmaps=1")
    assert _get(apiserver, kubectl_bin, "quota", "small", "-n", ns)["status"]["used"] == {"configmaps": "0"}
    apiserver.kubectl(kubectl_bin, "create", "configmap", "one", "-n", ns)
    result = apiserver.kubectl(kubectl_bin, "create", "configmap", "two", "-n", ns, check=False)
    assert result.returncode == 1
    assert 'configmaps "two" is forbidden: exceeded quota: small, requested: configmaps=1, used: configmaps=1, ' \
           "limited: configmaps=1" in result.stderr
    used = _get(apiserver, kubectl_bin, "quota", "small", "-n", ns)["status"]["used"]
    assert used == {"configmaps": "1"}


def test_object_in_missing_namespace_is_not_found(apiserver: ApiServer) -> None:
    result = apiserver.kubectl(KUBECTL_132, "create", "configmap", "x", "-n", "no-such-ns", check=False)
    assert 'namespaces "no-such-ns" not found' in result.stderr and result.returncode == 1
    result = apiserver.kubectl(KUBECTL_132, "delete", "namespace", "kube-system", check=False)
    assert 'namespaces "kube-system" is forbidden: this namespace may not be deleted' in result.stderr


def test_terminating_namespace_refuses_new_objects(apiserver: ApiServer) -> None:
    ns = _namespace(apiserver)
    apiserver.kubectl(KUBECTL_132, "delete", "namespace", ns, "--wait=false")
    assert _get(apiserver, KUBECTL_132, "namespace", ns)["status"]["phase"] == "Terminating"
    result = apiserver.kubectl(KUBECTL_132, "create", "configmap", "late", "-n", ns, check=False)
    assert f"unable to create new content in namespace {ns} because it is being terminated" in result.stderr
    # what the namespace controller does once the namespace is empty
    current = _get(apiserver, KUBECTL_132, "namespace", ns)
    current["spec"]["finalizers"] = []
    code, body, _ = apiserver.request("PUT", f"/api/v1/namespaces/{ns}/finalize", current)
    assert code == 200, body
    assert apiserver.kubectl(KUBECTL_132, "get", "namespace", ns, check=False).returncode == 1


WIDGET_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {"group": "example.com", "scope": "Namespaced",
             "names": {"plural": "widgets", "kind": "Widget", "shortNames": ["wd"]},
             "versions": [{"name": "v1", "served": True, "storage": True,
                           "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.replicas",
                                                                    "statusReplicasPath": ".status.replicas"}},
                           "additionalPrinterColumns": [{"name": "Size", "type": "integer", "jsonPath": ".spec.size"}],
                           "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": {
                               "type": "object", "required": ["size"], "properties": {
                                   "size": {"type": "integer", "maximum": 10},
                                   "replicas": {"type": "integer"},
                                   "color": {"type": "string", "default": "red"}}}}}}}]}}


def _wait_served(apiserver: ApiServer, resource: str) -> None:
    deadline = time.monotonic() + 5
    while apiserver.kubectl(KUBECTL_132, "get", resource, check=False).returncode != 0:
        assert time.monotonic() < deadline, f"{resource} never served"
        time.sleep(0.1)


def test_custom_resource_lifecycle(apiserver: ApiServer, kubectl_bin: str) -> None:
    apiserver.kubectl(kubectl_bin, "apply", "-f", "-", stdin=json.dumps(WIDGET_CRD))
    crd = _get(apiserver, kubectl_bin, "crd", "widgets.example.com")
    assert {c["type"] for c in crd["status"]["conditions"]} >= {"NamesAccepted", "Established"}
    _wait_served(apiserver, "widgets")
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w1"},
              "spec": {"size": 3, "replicas": 1, "unknown": "dropped"}}
    apiserver.kubectl(kubectl_bin, "apply", "-f", "-", stdin=json.dumps(widget))
    table = apiserver.kubectl(kubectl_bin, "get", "wd").stdout.split()
    assert table[:2] == ["NAME", "SIZE"] and "w1" in table and "3" in table
    stored = _get(apiserver, kubectl_bin, "widget", "w1")
    assert stored["spec"] == {"size": 3, "replicas": 1, "color": "red"}
    widget["spec"]["size"] = 30
    result = apiserver.kubectl(kubectl_bin, "apply", "-f", "-", stdin=json.dumps(widget), check=False)
    assert "spec.size: Invalid value: 30: spec.size in body should be less than or equal to 10" in result.stderr
    apiserver.kubectl(kubectl_bin, "scale", "widget", "w1", "--replicas=4")
    assert _get(apiserver, kubectl_bin, "widget", "w1")["spec"]["replicas"] == 4
    apiserver.kubectl(kubectl_bin, "delete", "crd", "widgets.example.com")
    deadline = time.monotonic() + 5
    while apiserver.kubectl(kubectl_bin, "get", "crd", "widgets.example.com", check=False).returncode == 0:
        assert time.monotonic() < deadline, "CRD never went away"
        time.sleep(0.1)
    assert apiserver.kubectl(kubectl_bin, "get", "widgets", check=False).returncode != 0
    # the CRD's objects went with it: a new CRD of the same name starts empty
    apiserver.kubectl(kubectl_bin, "apply", "-f", "-", stdin=json.dumps(WIDGET_CRD))
    _wait_served(apiserver, "widgets")
    assert _get(apiserver, kubectl_bin, "widgets")["items"] == []
    apiserver.kubectl(kubectl_bin, "delete", "crd", "widgets.example.com")


def test_kwok_crds_apply_and_serve(apiserver: ApiServer) -> None:
    apiserver.kubectl(KUBECTL_132, "apply", "-f", str(KWOK_CRDS))
    names = _get(apiserver, KUBECTL_132, "crd")["items"]
    kwok = [c for c in names if c["spec"]["group"] == "kwok.x-k8s.io"]
    assert len(kwok) == 12
    _wait_served(apiserver, "stages.kwok.x-k8s.io")
    stage_file = Path(SHARED_DIR + "/upstream/kwok/kustomize/stage/pod/fast/pod-ready.yaml")
    apiserver.kubectl(KUBECTL_132, "apply", "-f", str(stage_file))
    assert apiserver.kubectl(KUBECTL_132, "get", "stages", "pod-ready", "-o", "name").stdout.strip() == \
        "stage.kwok.x-k8s.io/pod-ready"


def test_scale_deployment(apiserver: ApiServer, kubectl_bin: str) -> None:
    name = _name("web")
    apiserver.kubectl(kubectl_bin, "create", "deployment", name, "--image=nginx")
    apiserver.kubectl(kubectl_bin, "scale", "deployment", name, "--replicas=5")
    code, scale, _ = apiserver.request("GET", f"/apis/apps/v1/namespaces/default/deployments/{name}/scale")
    assert code == 200 and scale["kind"] == "Scale" and scale["spec"] == {"replicas": 5}
    assert scale["status"]["selector"] == f"app={name}"
    assert _get(apiserver, kubectl_bin, "deployment", name)["metadata"]["generation"] == 2


def test_eviction_respects_the_disruption_budget(apiserver: ApiServer) -> None:
    ns = _namespace(apiserver)
    for name in ("guarded", "free"):
        apiserver.kubectl(KUBECTL_132, "run", name, "-n", ns, "--image=nginx", f"--labels=app={name}")
        apiserver.kubectl(KUBECTL_132, "patch", "pod", name, "-n", ns, "--subresource=status", "--type=merge",
                          "-p", '{"status":{"phase":"Running"}}')
    apiserver.kubectl(KUBECTL_132, "create", "pdb", "keep", "-n", ns, "--selector=app=guarded", "--min-available=1")
    eviction = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "guarded", "namespace": ns}}
    code, body, _ = apiserver.request("POST", f"/api/v1/namespaces/{ns}/pods/guarded/eviction", eviction)
    assert code == 429 and body["reason"] == "TooManyRequests"
    assert body["message"] == "Cannot evict pod as it would violate the pod's disruption budget."
    eviction["metadata"]["name"] = "free"
    code, body, _ = apiserver.request("POST", f"/api/v1/namespaces/{ns}/pods/free/eviction", eviction)
    assert (code, body["status"]) == (201, "Success")
    assert apiserver.kubectl(KUBECTL_132, "get", "pod", "free", "-n", ns, check=False).returncode == 1


def test_drain_evicts_what_the_budget_allows(apiserver: ApiServer) -> None:
    node = _name("node")
    apiserver.kubectl(KUBECTL_132, "apply", "-f", "-", stdin=json.dumps(
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": node}}))
    ns = _namespace(apiserver)
    for app in ("kept", "moved"):
        apiserver.kubectl(KUBECTL_132, "apply", "-n", ns, "-f", "-", stdin=json.dumps(
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": app, "labels": {"app": app}},
             "spec": {"nodeName": node, "containers": [{"name": "c", "image": "x"}]}}))
        apiserver.kubectl(KUBECTL_132, "patch", "pod", app, "-n", ns, "--subresource=status", "--type=merge",
                          "-p", '{"status":{"phase":"Running"}}')
    apiserver.kubectl(KUBECTL_132, "create", "pdb", "keep", "-n", ns, "--selector=app=kept", "--min-available=1")
    result = apiserver.kubectl(KUBECTL_132, "drain", node, "--force", "--grace-period=0", "--timeout=3s",
                               check=False)
    assert result.returncode == 1
    assert "Cannot evict pod as it would violate the pod's disruption budget." in result.stdout + result.stderr
    pods = apiserver.kubectl(KUBECTL_132, "get", "pods", "-n", ns, "-o", "name").stdout.split()
    assert pods == ["pod/kept"]
    assert _get(apiserver, KUBECTL_132, "node", node)["spec"]["unschedulable"] is True
