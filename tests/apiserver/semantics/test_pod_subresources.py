"""pods/binding, pods/ephemeralcontainers and serviceaccounts/token through a running server."""

from __future__ import annotations

import base64
import json
import uuid

from tests.apiserver.harness import ApiServer

KUBECTL_132 = "/usr/bin/kubectl"


def _pod(apiserver: ApiServer) -> str:
    name = f"p-{uuid.uuid4().hex[:6]}"
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "app", "image": "busybox"}]}}
    code, created, _ = apiserver.request("POST", "/api/v1/namespaces/default/pods", body)
    assert code == 201, created
    return name


def _bind(apiserver: ApiServer, pod: str, node: str) -> tuple[int, dict[str, object]]:
    binding = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": pod},
               "target": {"apiVersion": "v1", "kind": "Node", "name": node}}
    code, body, _ = apiserver.request("POST", f"/api/v1/namespaces/default/pods/{pod}/binding", binding)
    return code, body


def test_binding_assigns_the_node_once(apiserver: ApiServer) -> None:
    pod = _pod(apiserver)
    code, body = _bind(apiserver, pod, "node-a")
    assert (code, body["status"]) == (201, "Success")
    _, stored, _ = apiserver.request("GET", f"/api/v1/namespaces/default/pods/{pod}")
    assert stored["spec"]["nodeName"] == "node-a"
    assert [(c["type"], c["status"]) for c in stored["status"]["conditions"]] == [("PodScheduled", "True")]
    code, body = _bind(apiserver, pod, "node-b")
    assert code == 409 and body["reason"] == "Conflict"
    assert body["message"] == f'Operation cannot be fulfilled on pods/binding "{pod}": pod {pod} is already ' \
                              'assigned to node "node-a"'


def test_debug_adds_an_ephemeral_container(apiserver: ApiServer) -> None:
    pod = _pod(apiserver)
    patch = {"spec": {"ephemeralContainers": [{"name": "debugger", "image": "busybox", "stdin": True}]}}
    code, body, _ = apiserver.request("PATCH", f"/api/v1/namespaces/default/pods/{pod}/ephemeralcontainers",
                                      patch, content_type="application/strategic-merge-patch+json")
    assert code == 200, body
    container = body["spec"]["ephemeralContainers"][0]
    assert container["name"] == "debugger" and container["terminationMessagePolicy"] == "File"
    assert body["spec"]["containers"][0]["image"] == "busybox"


def test_create_token_for_a_service_account(apiserver: ApiServer, kubectl_bin: str) -> None:
    name = f"sa-{uuid.uuid4().hex[:6]}"
    apiserver.kubectl(kubectl_bin, "create", "serviceaccount", name)
    token = apiserver.kubectl(kubectl_bin, "create", "token", name, "--duration=2h").stdout.strip()
    claims = token.split(".")[1]
    decoded = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    assert decoded["sub"] == f"system:serviceaccount:default:{name}"
    assert decoded["exp"] - decoded["iat"] == 7200
    result = apiserver.kubectl(kubectl_bin, "create", "token", "no-such-account", check=False)
    assert result.returncode == 1 and 'serviceaccounts "no-such-account" not found' in result.stderr
