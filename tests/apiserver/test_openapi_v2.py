"""/openapi/v2: Swagger 2.0 in JSON, and in the gnostic protobuf that kubectl decodes."""

from __future__ import annotations

import json
import urllib.request
import uuid

from kwok.apiserver.openapiv2 import negotiate, swagger
from tests.apiserver.harness import ApiServer

PROTOBUF = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"


def test_negotiation_follows_the_clients_preference() -> None:
    assert negotiate("") == "application/json"
    assert negotiate("*/*") == "application/json"
    assert negotiate(PROTOBUF) == PROTOBUF
    assert negotiate(f"application/json;q=0.5, {PROTOBUF}") == PROTOBUF
    assert negotiate("application/xml") is None
    assert negotiate("application/json;q=0") is None


def test_v3_constructs_become_swagger_2() -> None:
    doc = {"paths": {"/api/v1/namespaces/{namespace}/configmaps/{name}": {
        "patch": {"operationId": "patchCoreV1NamespacedConfigMap",
                  "parameters": [{"name": "force", "in": "query", "schema": {"type": "boolean"}}],
                  "requestBody": {"content": {"application/merge-patch+json": {"schema": {"$ref": "#/components/schemas/P"}}},
                                  "required": True},
                  "responses": {"200": {"description": "OK", "content": {
                      "application/json": {"schema": {"$ref": "#/components/schemas/CM"}},
                      "application/yaml": {"schema": {"$ref": "#/components/schemas/CM"}}}}}}}},
        "components": {"schemas": {
            "CM": {"type": "object", "properties": {"metadata": {"allOf": [{"$ref": "#/components/schemas/M"}],
                                                                  "description": "meta"},
                                                     "n": {"type": "string", "nullable": True}}},
            "IntOrString": {"oneOf": [{"type": "integer"}, {"type": "string"}], "format": "int-or-string"}}}}
    out = swagger([doc])
    assert out["swagger"] == "2.0" and out["info"]["version"].startswith("v1.36")
    patch = out["paths"]["/api/v1/namespaces/{namespace}/configmaps/{name}"]["patch"]
    assert patch["consumes"] == ["application/merge-patch+json"]
    assert patch["produces"] == ["application/json", "application/yaml"]
    assert patch["parameters"] == [{"in": "query", "name": "force", "type": "boolean"},
                                   {"in": "body", "name": "body", "required": True, "schema": {"$ref": "#/definitions/P"}}]
    assert patch["responses"]["200"] == {"description": "OK", "schema": {"$ref": "#/definitions/CM"}}
    assert out["definitions"]["CM"]["properties"] == {"metadata": {"$ref": "#/definitions/M", "description": "meta"},
                                                      "n": {"type": "string"}}
    assert out["definitions"]["IntOrString"] == {"type": "string", "format": "int-or-string"}


def test_json_document_with_etag(apiserver: ApiServer) -> None:
    code, doc, headers = apiserver.request("GET", "/openapi/v2?timeout=32s")
    assert code == 200 and headers["Content-Type"] == "application/json"
    assert doc["swagger"] == "2.0" and "#/components/" not in json.dumps(doc["definitions"])
    deployment = doc["definitions"]["io.k8s.api.apps.v1.Deployment"]
    assert deployment["x-kubernetes-group-version-kind"] == [{"group": "apps", "kind": "Deployment", "version": "v1"}]
    containers = doc["definitions"]["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]
    assert (containers["x-kubernetes-patch-merge-key"], containers["items"]) == (
        "name", {"$ref": "#/definitions/io.k8s.api.core.v1.Container"})
    patch = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert "application/strategic-merge-patch+json" in patch["consumes"]
    code, _, _ = apiserver.request("GET", "/openapi/v2", headers={"If-None-Match": headers["Etag"]})
    assert code == 304


def test_protobuf_and_refusals(apiserver: ApiServer) -> None:
    request = urllib.request.Request(apiserver.url + "/openapi/v2", headers={"Accept": PROTOBUF})
    with urllib.request.urlopen(request, timeout=10) as response:
        body, content_type = response.read(), response.headers["Content-Type"]
    # kube-openapi's reply type: Go's mime parser, which client-go applies, refuses the requested `@`
    assert content_type == "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
    assert body.startswith(b"\n\x032.0")             # Document.swagger, field 1: "2.0"
    assert b"io.k8s.api.apps.v1.Deployment" in body
    code, _, _ = apiserver.request("GET", "/openapi/v2", headers={"Accept": "application/xml"})
    assert code == 406


def test_kubectl_explain_through_openapi_v2(apiserver: ApiServer, kubectl_bin: str) -> None:
    out = apiserver.kubectl(kubectl_bin, "explain", "deployments.spec.template.spec.containers",
                            "--output=plaintext-openapiv2").stdout
    assert out.startswith("KIND:     Deployment\nVERSION:  apps/v1\n")
    assert "RESOURCE: containers <[]Object>" in out
    fields = out.split("FIELDS:")[1]
    assert "   image\t<string>" in fields and "   name\t<string> -required-" in fields


def test_custom_resources_appear_in_openapi_v2(apiserver: ApiServer, kubectl_bin: str) -> None:
    group = f"v2-{uuid.uuid4().hex[:6]}.example.com"
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": f"widgets.{group}"},
           "spec": {"group": group, "scope": "Namespaced",
                    "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
                    "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                        "type": "object", "properties": {"spec": {"type": "object", "description": "What a widget is.",
                                                                  "properties": {"size": {"type": "integer",
                                                                                          "nullable": True}}}}}}}]}}
    apiserver.kubectl(kubectl_bin, "create", "-f", "-", stdin=json.dumps(crd))
    apiserver.kubectl(kubectl_bin, "wait", "--for=condition=Established", f"crd/widgets.{group}", "--timeout=10s")
    _, doc, _ = apiserver.request("GET", "/openapi/v2")
    name = next(n for n, d in doc["definitions"].items()
                if {"group": group, "kind": "Widget", "version": "v1"} in d.get("x-kubernetes-group-version-kind", []))
    assert doc["definitions"][name]["properties"]["spec"]["properties"]["size"] == {"type": "integer"}
    out = apiserver.kubectl(kubectl_bin, "explain", "widgets.spec", f"--api-version={group}/v1",
                            "--output=plaintext-openapiv2").stdout
    assert "What a widget is." in out and "size\t<integer>" in out
