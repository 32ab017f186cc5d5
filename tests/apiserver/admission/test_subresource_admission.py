"""Admission of subresource writes as a real API server does it, driven by the real kubectl:
`kubectl scale` shows webhooks and policies an autoscaling/v1 Scale (not the Deployment), and
`kubectl exec` goes through admission as a CONNECT with a PodExecOptions.

Each test works in its own namespace and selects it with a namespaceSelector, so the webhooks and
policies of one test never touch another's requests on the shared server.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.apiserver.admission.webhook_server import WebhookServer, json_patch
from tests.apiserver.harness import ApiServer
from tests.apiserver.semantics.fake_kubelet import FakeKubelet
from tests.conftest import KUBECTL_132

Obj = dict[str, Any]
MAX_REPLICAS = 2


def _respond(path: str, review: Obj) -> Obj | None:
    request = review["request"]
    obj = request["object"] or {}
    if path == "/cap" and obj.get("kind") == "Scale" and obj["spec"]["replicas"] > MAX_REPLICAS:
        return {"allowed": True, **json_patch({"op": "replace", "path": "/spec/replicas", "value": MAX_REPLICAS})}
    if path == "/no-rm" and "rm" in (obj.get("command") or []):
        return {"allowed": False, "status": {"code": 403, "reason": "Forbidden", "message": "no rm in exec"}}
    if path == "/rewrite" and obj.get("command") == ["echo", "hi"]:
        return {"allowed": True, **json_patch({"op": "replace", "path": "/command", "value": ["echo", "rewritten"]})}
    return {"allowed": True}


@pytest.fixture(scope="module")
def hook(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebhookServer]:
    with WebhookServer(tmp_path_factory.mktemp("webhook"), _respond) as server:
        yield server


def _webhooks(kind: str, namespace: str, hook: WebhookServer, path: str, rule: Obj) -> Obj:
    webhook = {"name": f"{namespace}.example.com", "sideEffects": "None", "admissionReviewVersions": ["v1"],
               "clientConfig": {"url": hook.url(path), "caBundle": hook.ca_bundle},
               "namespaceSelector": {"matchLabels": {"admission-test": namespace}}, "rules": [rule]}
    return {"apiVersion": "admissionregistration.k8s.io/v1", "kind": kind, "metadata": {"name": namespace},
            "webhooks": [webhook]}


SCALE_RULE = {"operations": ["UPDATE"], "apiGroups": ["apps"], "apiVersions": ["v1"],
              "resources": ["deployments/scale"]}
EXEC_RULE = {"operations": ["CONNECT"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods/exec"]}


def _deployment(apiserver: ApiServer, kubectl_bin: str, namespace: str) -> None:
    apiserver.kubectl(kubectl_bin, "-n", namespace, "apply", "-f", "-", stdin=json.dumps({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}}))


def _replicas(apiserver: ApiServer, kubectl_bin: str, namespace: str) -> int:
    return int(apiserver.kubectl(kubectl_bin, "-n", namespace, "get", "deployment", "web",
                                 "-o", "jsonpath={.spec.replicas}").stdout)


def _reviews(hook: WebhookServer, namespace: str) -> list[Obj]:
    return [r["request"] for r in hook.reviews if r["request"]["namespace"] == namespace]


# ------------------------------------------------------------------------------------------- scale

def test_kubectl_scale_shows_webhooks_a_scale(apiserver: ApiServer, kubectl_bin: str, hook: WebhookServer,
                                              namespace: str) -> None:
    _deployment(apiserver, kubectl_bin, namespace)
    apiserver.apply(kubectl_bin, _webhooks("ValidatingWebhookConfiguration", namespace, hook, "/seen", SCALE_RULE))
    apiserver.kubectl(kubectl_bin, "-n", namespace, "scale", "deployment", "web", "--replicas", "3")
    [request] = _reviews(hook, namespace)
    scale_kind = {"group": "autoscaling", "version": "v1", "kind": "Scale"}
    deployments = {"group": "apps", "version": "v1", "resource": "deployments"}
    assert (request["kind"], request["requestKind"]) == (scale_kind, scale_kind)
    assert (request["resource"], request["requestResource"]) == (deployments, deployments)
    assert (request["subResource"], request["requestSubResource"]) == ("scale", "scale")
    assert (request["operation"], request["name"]) == ("UPDATE", "web")
    new, old = request["object"], request["oldObject"]
    for scale, replicas in ((new, 3), (old, 1)):
        assert (scale["apiVersion"], scale["kind"]) == ("autoscaling/v1", "Scale")
        assert scale["metadata"]["name"] == "web" and scale["metadata"]["namespace"] == namespace
        assert "labels" not in scale["metadata"]            # a Scale carries no labels of its parent
        assert scale["spec"] == {"replicas": replicas}
        assert scale["status"]["selector"] == "app=web"
    assert new["metadata"]["uid"] == old["metadata"]["uid"]
    assert _replicas(apiserver, kubectl_bin, namespace) == 3


def test_a_mutating_webhook_caps_what_kubectl_scale_asks(apiserver: ApiServer, kubectl_bin: str,
                                                         hook: WebhookServer, namespace: str) -> None:
    _deployment(apiserver, kubectl_bin, namespace)
    apiserver.apply(kubectl_bin, _webhooks("MutatingWebhookConfiguration", namespace, hook, "/cap", SCALE_RULE))
    scaled = apiserver.kubectl(kubectl_bin, "-n", namespace, "scale", "deployment", "web", "--replicas", "4")
    assert scaled.stdout.strip() == "deployment.apps/web scaled"
    assert _replicas(apiserver, kubectl_bin, namespace) == MAX_REPLICAS
    apiserver.kubectl(kubectl_bin, "-n", namespace, "scale", "deployment", "web", "--replicas", "0")
    assert _replicas(apiserver, kubectl_bin, namespace) == 0


def test_a_policy_on_deployments_scale_refuses_kubectl_scale(apiserver: ApiServer, kubectl_bin: str,
                                                             namespace: str) -> None:
    policy, binding = f"max-replicas-{namespace}", f"max-replicas-{namespace}-binding"
    _deployment(apiserver, kubectl_bin, namespace)
    apiserver.apply(kubectl_bin, {
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": policy},
        "spec": {"failurePolicy": "Fail",
                 "matchConstraints": {"resourceRules": [{**SCALE_RULE, "operations": ["UPDATE"]}]},
                 "validations": [{"expression": "object.kind == 'Scale' && object.spec.replicas <= 5"}]}}, {
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": binding},
        "spec": {"policyName": policy, "validationActions": ["Deny"],
                 "matchResources": {"namespaceSelector": {"matchLabels": {"admission-test": namespace}}}}})
    refused = apiserver.kubectl(kubectl_bin, "-n", namespace, "scale", "deployment", "web", "--replicas", "9",
                                check=False)
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        f"The deployments \"web\" is invalid: : ValidatingAdmissionPolicy '{policy}' with binding '{binding}' "
        "denied request: failed expression: object.kind == 'Scale' && object.spec.replicas <= 5")
    assert _replicas(apiserver, kubectl_bin, namespace) == 1
    apiserver.kubectl(kubectl_bin, "-n", namespace, "scale", "deployment", "web", "--replicas", "5")
    assert _replicas(apiserver, kubectl_bin, namespace) == 5


# -------------------------------------------------------------------------------------------- exec

@pytest.fixture(scope="module")
def kubelet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeKubelet]:
    fake = FakeKubelet(tmp_path_factory.mktemp("kubelet")).start()
    yield fake
    fake.stop()


@pytest.fixture
def pod(apiserver: ApiServer, kubelet: FakeKubelet, namespace: str) -> str:
    """A pod bound to a node whose kubelet (the fake) runs exec."""
    node = f"node-{namespace}"
    code, body, _ = apiserver.request("POST", "/api/v1/nodes", {
        "apiVersion": "v1", "kind": "Node", "metadata": {"name": node},
        "status": {"addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
                   "daemonEndpoints": {"kubeletEndpoint": {"Port": kubelet.port}}}})
    assert code == 201, body
    code, body, _ = apiserver.request("POST", f"/api/v1/namespaces/{namespace}/pods", {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "shell"},
        "spec": {"nodeName": node, "containers": [{"name": "app", "image": "busybox"}]}})
    assert code == 201, body
    return "shell"


def test_a_webhook_sees_kubectl_exec_as_connect_and_may_deny_it(apiserver: ApiServer, kubectl_bin: str,
                                                                hook: WebhookServer, namespace: str,
                                                                pod: str) -> None:
    apiserver.apply(kubectl_bin, _webhooks("ValidatingWebhookConfiguration", namespace, hook, "/no-rm", EXEC_RULE))
    ran = apiserver.kubectl(kubectl_bin, "-n", namespace, "exec", pod, "--", "echo", "hi")
    assert ran.stdout == "ran: echo hi\n"
    request = _reviews(hook, namespace)[0]
    options_kind = {"group": "", "version": "v1", "kind": "PodExecOptions"}
    assert (request["operation"], request["name"], request["subResource"]) == ("CONNECT", pod, "exec")
    assert (request["kind"], request["requestKind"]) == (options_kind, options_kind)
    assert request["resource"] == {"group": "", "version": "v1", "resource": "pods"}
    assert request["object"] == {"kind": "PodExecOptions", "apiVersion": "v1", "stdout": True, "stderr": True,
                                 "container": "app", "command": ["echo", "hi"]}
    assert request["oldObject"] is None and request["options"] is None

    denied = apiserver.kubectl(kubectl_bin, "-n", namespace, "exec", pod, "--", "rm", "-rf", "/", check=False)
    assert denied.returncode == 1 and denied.stdout == ""
    # 1.32 retries a refused WebSocket upgrade over SPDY, whose client reports the Status as such;
    # 1.37 reports the refused upgrade itself
    prefix = "Error from server (Forbidden)" if kubectl_bin == KUBECTL_132 else "error: unable to upgrade connection"
    assert denied.stderr.strip().splitlines()[-1] == (
        f'{prefix}: admission webhook "{namespace}.example.com" denied the request: no rm in exec')


def test_a_mutating_webhook_rewrites_the_exec_command(apiserver: ApiServer, kubectl_bin: str,
                                                      hook: WebhookServer, namespace: str, pod: str) -> None:
    apiserver.apply(kubectl_bin, _webhooks("MutatingWebhookConfiguration", namespace, hook, "/rewrite", EXEC_RULE))
    ran = apiserver.kubectl(kubectl_bin, "-n", namespace, "exec", pod, "--", "echo", "hi")
    assert ran.stdout == "ran: echo rewritten\n"
