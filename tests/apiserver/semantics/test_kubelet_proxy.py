"""pods/log, pods/exec and nodes/proxy reach the node's kubelet (status.addresses + daemonEndpoints)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.apiserver.harness import ApiServer

from .fake_kubelet import FakeKubelet


@pytest.fixture(scope="module")
def kubelet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeKubelet]:
    fake = FakeKubelet(tmp_path_factory.mktemp("kubelet")).start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def bound_pod(apiserver: ApiServer, kubelet: FakeKubelet) -> str:
    node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "fake-node"},
            "status": {"addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
                       "daemonEndpoints": {"kubeletEndpoint": {"Port": kubelet.port}}}}
    code, body, _ = apiserver.request("POST", "/api/v1/nodes", node)
    assert code == 201, body
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "logger"},
           "spec": {"nodeName": "fake-node", "containers": [{"name": "app", "image": "busybox"}]}}
    code, body, _ = apiserver.request("POST", "/api/v1/namespaces/default/pods", pod)
    assert code == 201, body
    return "logger"


def test_logs_come_from_the_kubelet(apiserver: ApiServer, bound_pod: str, kubectl_bin: str) -> None:
    out = apiserver.kubectl(kubectl_bin, "logs", bound_pod).stdout
    assert out.splitlines() == [f"default/{bound_pod}/app line {i}" for i in (1, 2, 3)]
    out = apiserver.kubectl(kubectl_bin, "logs", bound_pod, "--tail=1").stdout
    assert out.splitlines() == [f"default/{bound_pod}/app line 3"]


def test_logs_of_an_unknown_container_are_refused(apiserver: ApiServer, bound_pod: str) -> None:
    code, body, _ = apiserver.request("GET", f"/api/v1/namespaces/default/pods/{bound_pod}/log?container=nope")
    assert code == 400 and body["message"] == f"container nope is not valid for pod {bound_pod}"


def test_exec_streams_through_the_kubelet(apiserver: ApiServer, bound_pod: str, kubectl_bin: str) -> None:
    result = apiserver.kubectl(kubectl_bin, "exec", bound_pod, "--", "echo", "hi")
    assert result.stdout == "ran: echo hi\n"


def test_unscheduled_pod_has_no_logs(apiserver: ApiServer, workdir: Path) -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "waiting"},
           "spec": {"containers": [{"name": "app", "image": "busybox"}]}}
    apiserver.request("POST", "/api/v1/namespaces/default/pods", pod)
    code, body, _ = apiserver.request("GET", "/api/v1/namespaces/default/pods/waiting/log")
    assert code == 400 and "does not have a host assigned" in json.dumps(body)


def test_node_proxy_passes_the_request_on(apiserver: ApiServer, bound_pod: str, kubectl_bin: str) -> None:
    """`kubectl get --raw /api/v1/nodes/<node>/proxy/...` as KWOK users read a node's metrics: the
    path after proxy/, the query, the method and the body reach the kubelet; its reply comes back."""
    out = apiserver.kubectl(kubectl_bin, "get", "--raw", "/api/v1/nodes/fake-node/proxy/echo/metrics/resource?x=1")
    assert json.loads(out.stdout) == {"method": "GET", "path": "/echo/metrics/resource", "query": {"x": "1"},
                                      "body": "", "header": ""}
    code, body, headers = apiserver.request("POST", "/api/v1/nodes/fake-node/proxy/echo/run", {"a": 1},
                                            headers={"X-Test": "yes"})
    assert code == 200 and headers.get("X-Kubelet") == "fake"
    assert (body["method"], body["path"], json.loads(body["body"]), body["header"]) == ("POST", "/echo/run", {"a": 1},
                                                                                        "yes")


def test_node_proxy_errors(apiserver: ApiServer, bound_pod: str) -> None:
    code, body, _ = apiserver.request("GET", "/api/v1/nodes/ghost/proxy/healthz")
    assert code == 404 and body["message"] == 'nodes "ghost" not found'
    code, body, _ = apiserver.request("GET", "/api/v1/nodes/fake-node:1/proxy/healthz")    # nothing listens there
    assert code == 503 and body["reason"] == "ServiceUnavailable"
    assert body["message"].startswith("error trying to reach service")
    code, body, _ = apiserver.request("GET", "/api/v1/nodes/ftp:fake-node:1/proxy/healthz")
    assert code == 400 and body["message"] == "invalid request ftp:fake-node:1"


def test_the_kubernetes_service_points_at_the_server(apiserver: ApiServer, kubectl_bin: str) -> None:
    """As a real API server does at start: `default/kubernetes` on the first service address, its
    Endpoints and EndpointSlice on this server, and the service proxy reaching it."""
    port = int(apiserver.url.rsplit(":", 1)[1])
    service = json.loads(apiserver.kubectl(kubectl_bin, "get", "service", "kubernetes", "-o", "json").stdout)
    assert service["spec"]["clusterIP"] == "10.96.0.1"
    assert service["spec"]["ports"] == [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": port}]
    endpoints = json.loads(apiserver.kubectl(kubectl_bin, "get", "endpoints", "kubernetes", "-o", "json").stdout)
    assert endpoints["subsets"] == [{"addresses": [{"ip": "127.0.0.1"}],
                                     "ports": [{"name": "https", "port": port, "protocol": "TCP"}]}]
    code, body, _ = apiserver.request("GET", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/kubernetes")
    assert code == 200 and body["endpoints"][0]["addresses"] == ["127.0.0.1"]
    scheme = apiserver.url.split(":", 1)[0]
    out = apiserver.kubectl(kubectl_bin, "get", "--raw",
                            f"/api/v1/namespaces/default/services/{scheme}:kubernetes:443/proxy/version").stdout
    assert json.loads(out)["major"] == "1"
