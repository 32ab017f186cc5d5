"""Custom resources as the request flow serves them: discovery, OpenAPI, patch types, versions."""

from __future__ import annotations

import json
import time

from tests.apiserver.harness import ApiServer

CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "gadgets.example.com"},
    "spec": {"group": "example.com", "scope": "Namespaced",
             "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget", "shortNames": ["gd"]},
             "versions": [
                 {"name": "v1", "served": True, "storage": True,
                  "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
                  "additionalPrinterColumns": [{"name": "Size", "type": "integer", "jsonPath": ".spec.size"}]},
                 {"name": "v1beta1", "served": True, "storage": False,
                  "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}]}}
GADGETS = "/apis/example.com/v1/namespaces/default/gadgets"


def test_custom_resources_served_right_after_the_crd(apiserver: ApiServer, kubectl_bin: str) -> None:
    apiserver.kubectl(kubectl_bin, "apply", "-f", "-", stdin=json.dumps(CRD))
    _, root, _ = apiserver.request("GET", "/openapi/v3")
    assert "apis/example.com/v1" in root["paths"]
    gadget = {"apiVersion": "example.com/v1", "kind": "Gadget", "metadata": {"name": "g1"}, "spec": {"size": 3}}
    apiserver.kubectl(kubectl_bin, "apply", "-f", "-", stdin=json.dumps(gadget))
    table = apiserver.kubectl(kubectl_bin, "get", "gd").stdout.splitlines()
    assert table[0].split() == ["NAME", "SIZE"] and table[1].split()[:2] == ["g1", "3"]
    result = apiserver.kubectl(kubectl_bin, "patch", "gadget", "g1", "-p", '{"spec":{"size":4}}', check=False)
    assert result.returncode != 0
    assert "application/strategic-merge-patch+json is not supported by example.com/v1, Kind=Gadget" in result.stderr
    apiserver.kubectl(kubectl_bin, "patch", "gadget", "g1", "--type=merge", "-p", '{"spec":{"size":5}}')
    _, other, _ = apiserver.request("GET", "/apis/example.com/v1beta1/namespaces/default/gadgets/g1")
    assert other["apiVersion"] == "example.com/v1beta1" and other["spec"]["size"] == 5
    _, listing, _ = apiserver.request("GET", "/apis/example.com/v1beta1/namespaces/default/gadgets")
    assert [i["apiVersion"] for i in listing["items"]] == ["example.com/v1beta1"]
    apiserver.kubectl(kubectl_bin, "delete", "crd", "gadgets.example.com")
    # as on a real server, the endpoints of a deleted CRD go away shortly after it (not in the same write)
    deadline = time.monotonic() + 5
    while apiserver.request("GET", GADGETS)[0] != 404 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert apiserver.request("GET", GADGETS)[0] == 404
