"""Dynamic admission as a user sees it: a `kwok apiserver` process, a webhook served by the test, and the
real kubectl (1.32 through the dispatcher, and 1.37) printing what the server answered.

Each test works in its own namespace and selects it with a namespaceSelector, so the webhooks and
policies of one test never touch another's requests on the shared server.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from tests.apiserver.admission.webhook_server import WebhookServer, json_patch
from tests.apiserver.harness import ApiServer

Obj = dict[str, Any]


def _respond(path: str, review: Obj) -> Obj | None:
    obj = review["request"]["object"] or {}
    if path == "/deny" and obj.get("metadata", {}).get("name", "").startswith("bad"):
        return {"allowed": False, "status": {"code": 403, "message": "names starting with bad are not allowed"}}
    if path == "/mutate":
        return {"allowed": True, "warnings": ["labelled by the webhook"],
                **json_patch({"op": "add", "path": "/metadata/labels", "value": {"mutated": "yes"}})}
    return {"allowed": True}


@pytest.fixture(scope="module")
def hook(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebhookServer]:
    with WebhookServer(tmp_path_factory.mktemp("webhook"), _respond) as server:
        yield server


def _configuration(kind: str, name: str, namespace: str, url: str, ca_bundle: str, **fields: Any) -> Obj:
    hook = {"name": f"{name}.example.com", "sideEffects": "None", "admissionReviewVersions": ["v1"],
            "clientConfig": {"url": url, "caBundle": ca_bundle},
            "namespaceSelector": {"matchLabels": {"admission-test": namespace}},
            "rules": [{"operations": ["CREATE", "UPDATE"], "apiGroups": [""], "apiVersions": ["v1"],
                       "resources": ["configmaps"]}], **fields}
    return {"apiVersion": "admissionregistration.k8s.io/v1", "kind": kind, "metadata": {"name": name},
            "webhooks": [hook]}


def test_a_validating_webhook_denial_as_kubectl_prints_it(apiserver: ApiServer, kubectl_bin: str,
                                                          hook: WebhookServer, namespace: str) -> None:
    apiserver.apply(kubectl_bin, _configuration("ValidatingWebhookConfiguration", namespace, namespace,
                                                  hook.url("/deny"), hook.ca_bundle))
    denied = apiserver.kubectl(kubectl_bin, "-n", namespace, "create", "configmap", "bad-one", check=False)
    assert denied.returncode == 1
    assert denied.stderr.strip() == ('error: failed to create configmap: admission webhook '
                                     f'"{namespace}.example.com" denied the request: '
                                     'names starting with bad are not allowed')
    apiserver.kubectl(kubectl_bin, "-n", namespace, "create", "configmap", "good-one")


def test_a_mutating_webhook_labels_what_kubectl_applies(apiserver: ApiServer, kubectl_bin: str,
                                                        hook: WebhookServer, namespace: str) -> None:
    apiserver.apply(kubectl_bin, _configuration("MutatingWebhookConfiguration", namespace, namespace,
                                                  hook.url("/mutate"), hook.ca_bundle))
    applied = apiserver.kubectl(kubectl_bin, "-n", namespace, "apply", "-f", "-", stdin=json.dumps(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "app"}, "data": {"k": "v"}}))
    assert "Warning: labelled by the webhook" in applied.stderr
    label = apiserver.kubectl(kubectl_bin, "-n", namespace, "get", "configmap", "app",
                              "-o", "jsonpath={.metadata.labels.mutated}").stdout
    assert label == "yes"


def test_a_dead_webhook_is_ignored_or_fails_the_request(apiserver: ApiServer, kubectl_bin: str,
                                                        hook: WebhookServer, namespace: str) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dead = f"https://127.0.0.1:{port}/"
    apiserver.apply(kubectl_bin, _configuration("ValidatingWebhookConfiguration", namespace, namespace, dead,
                                                  hook.ca_bundle, failurePolicy="Ignore"))
    apiserver.kubectl(kubectl_bin, "-n", namespace, "create", "configmap", "passes")
    apiserver.apply(kubectl_bin, _configuration("ValidatingWebhookConfiguration", namespace, namespace, dead,
                                                  hook.ca_bundle, failurePolicy="Fail"))
    failed = apiserver.kubectl(kubectl_bin, "-n", namespace, "create", "configmap", "blocked", check=False)
    assert failed.returncode == 1
    assert failed.stderr.strip() == (
        f'error: failed to create configmap: Internal error occurred: failed calling webhook '
        f'"{namespace}.example.com": failed to call webhook: Post "{dead}?timeout=10s": '
        f'dial tcp 127.0.0.1:{port}: connect: connection refused')


def test_a_validating_admission_policy_limits_deployment_replicas(apiserver: ApiServer, kubectl_bin: str,
                                                                  namespace: str) -> None:
    """The example of the Kubernetes documentation (Validating Admission Policy), in its own namespace."""
    policy, binding = f"demo-policy-{namespace}.example.com", f"demo-binding-{namespace}.example.com"
    apiserver.apply(kubectl_bin, {
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": policy},
        "spec": {"failurePolicy": "Fail",
                 "matchConstraints": {"resourceRules": [{"apiGroups": ["apps"], "apiVersions": ["v1"],
                                                         "operations": ["CREATE", "UPDATE"],
                                                         "resources": ["deployments"]}]},
                 "validations": [{"expression": "object.spec.replicas <= 5"}]}}, {
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": binding},
        "spec": {"policyName": policy, "validationActions": ["Deny"],
                 "matchResources": {"namespaceSelector": {"matchLabels": {"admission-test": namespace}}}}})
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "nginx"},
                  "spec": {"replicas": 6, "selector": {"matchLabels": {"app": "nginx"}},
                           "template": {"metadata": {"labels": {"app": "nginx"}},
                                        "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}}}}
    refused = apiserver.kubectl(kubectl_bin, "-n", namespace, "apply", "-f", "-", stdin=json.dumps(deployment),
                                check=False)
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        f'The deployments "nginx" is invalid: : ValidatingAdmissionPolicy \'{policy}\' with binding '
        f"'{binding}' denied request: failed expression: object.spec.replicas <= 5")
    deployment["spec"]["replicas"] = 5
    apiserver.kubectl(kubectl_bin, "-n", namespace, "apply", "-f", "-", stdin=json.dumps(deployment))
    patched = apiserver.kubectl(kubectl_bin, "-n", namespace, "patch", "deployment", "nginx",
                                "-p", '{"spec":{"replicas":7}}', check=False)
    assert patched.returncode == 1 and "failed expression: object.spec.replicas <= 5" in patched.stderr
