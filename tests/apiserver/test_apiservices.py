"""apiregistration.k8s.io/v1 APIServices: `kubectl get apiservices` as on a real cluster."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.apiserver.harness import ApiServer

API = "/apis/apiregistration.k8s.io/v1/apiservices"
CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "gadgets.shop.example.com"},
    "spec": {"group": "shop.example.com", "scope": "Namespaced",
             "names": {"kind": "Gadget", "plural": "gadgets"},
             "versions": [{"name": "v1", "served": True, "storage": True,
                           "schema": {"openAPIV3Schema": {"type": "object",
                                                          "x-kubernetes-preserve-unknown-fields": True}}}]},
}
ADAPTER = {
    "apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
    "metadata": {"name": "v1beta1.custom.metrics.k8s.io"},
    "spec": {"group": "custom.metrics.k8s.io", "version": "v1beta1", "insecureSkipTLSVerify": True,
             "groupPriorityMinimum": 100, "versionPriority": 100,
             "service": {"name": "prometheus-adapter", "namespace": "monitoring"}},
}


def until(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


@pytest.fixture
def server(tmp_path: Path) -> Any:
    api = ApiServer(tmp_path).start()
    yield api
    api.stop()


def names(server: ApiServer) -> set[str]:
    _code, body, _ = server.request("GET", API)
    return {item["metadata"]["name"] for item in body["items"]}


def test_every_served_group_version_is_a_local_available_apiservice(server: ApiServer, kubectl_bin: str) -> None:
    assert until(lambda: {"v1.", "v1.apps", "v2.autoscaling", "v1beta1.metrics.k8s.io",
                          "v1.apiregistration.k8s.io"} <= names(server))
    rows = server.kubectl(kubectl_bin, "get", "apiservices").stdout.splitlines()
    assert rows[0].split() == ["NAME", "SERVICE", "AVAILABLE", "AGE"]
    assert rows[1].split()[:3] == ["v1.", "Local", "True"]
    core = json.loads(server.kubectl(kubectl_bin, "get", "apiservice", "v1.", "-o", "json").stdout)
    assert core["metadata"]["labels"] == {"kube-aggregator.kubernetes.io/automanaged": "onstart"}
    assert core["spec"]["group"] == "" and core["spec"]["version"] == "v1"
    assert core["status"]["conditions"][0] | {"lastTransitionTime": ""} == {
        "type": "Available", "status": "True", "reason": "Local", "lastTransitionTime": "",
        "message": "Local APIServices are always available"}
    assert "service" in server.kubectl(kubectl_bin, "explain", "apiservice.spec").stdout


def test_crd_group_versions_come_and_go(server: ApiServer) -> None:
    assert until(lambda: "v1.apps" in names(server))
    code, _body, _ = server.request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", CRD)
    assert code == 201
    assert until(lambda: "v1.shop.example.com" in names(server))
    _code, made, _ = server.request("GET", f"{API}/v1.shop.example.com")
    assert made["metadata"]["labels"] == {"kube-aggregator.kubernetes.io/automanaged": "true"}
    server.request("DELETE", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.shop.example.com")
    assert until(lambda: "v1.shop.example.com" not in names(server))
    assert "Traceback" not in server.log.read_text()


def test_an_apiservice_naming_a_service_is_kept_and_unavailable(server: ApiServer, kubectl_bin: str) -> None:
    assert until(lambda: "v1.apps" in names(server))
    server.apply(kubectl_bin, ADAPTER)
    row = next(r for r in server.kubectl(kubectl_bin, "get", "apiservices").stdout.splitlines()
               if r.startswith("v1beta1.custom.metrics.k8s.io"))
    assert row.split()[1:4] == ["monitoring/prometheus-adapter", "False", "(FailedDiscoveryCheck)"]
    _code, stored, _ = server.request("GET", f"{API}/v1beta1.custom.metrics.k8s.io")
    assert stored["spec"]["service"]["port"] == 443                               # defaulted
    # a CRD coming and going resyncs the registrations: the user's stays
    server.request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", CRD)
    assert until(lambda: "v1.shop.example.com" in names(server))
    assert "v1beta1.custom.metrics.k8s.io" in names(server)
    # the group version is not served: nothing behind the service answers
    code, _body, _ = server.request("GET", "/apis/custom.metrics.k8s.io/v1beta1")
    assert code == 404


@pytest.mark.parametrize(("change", "message"), [
    ({"metadata": {"name": "v1.wrong.example.com"}},
     'metadata.name: Invalid value: "v1.wrong.example.com": must be `spec.version+"."+spec.group`: '
     '"v1beta1.custom.metrics.k8s.io"'),
    ({"spec": {"groupPriorityMinimum": 0}}, "spec.groupPriorityMinimum: Invalid value: 0: must be positive"),
    ({"spec": {"service": {"name": "x"}}}, "spec.service.namespace: Required value"),
])
def test_invalid_apiservices_are_refused_with_the_aggregators_messages(server: ApiServer, change: dict[str, Any],
                                                                       message: str) -> None:
    obj = json.loads(json.dumps(ADAPTER))
    for key, value in change.items():
        obj[key].update(value)
    code, body, _ = server.request("POST", API, obj)
    assert code == 422
    assert message in body["message"]
