"""Discovery, OpenAPI and the alternative representations (Table, PartialObjectMetadata)."""

from __future__ import annotations

import uuid

from tests.apiserver.harness import ApiServer

AGGREGATED = ("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
              "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json")


def test_version_and_health(apiserver: ApiServer) -> None:
    code, version, _ = apiserver.request("GET", "/version?timeout=5s")
    assert (version["major"], version["minor"], version["gitVersion"]) == ("1", "36", "v1.36.3")
    for path in ("/healthz", "/livez", "/readyz"):
        assert apiserver.request("GET", path)[1] == "ok"


def test_aggregated_discovery_has_exact_content_type(apiserver: ApiServer) -> None:
    code, body, headers = apiserver.request("GET", "/apis", headers={"Accept": AGGREGATED})
    assert headers["Content-Type"] == "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    apps = next(i for i in body["items"] if i["metadata"]["name"] == "apps")
    deploy = next(r for r in apps["versions"][0]["resources"] if r["resource"] == "deployments")
    assert {"subresource": "scale", "responseKind": {"group": "autoscaling", "version": "v1", "kind": "Scale"},
            "verbs": ["get", "patch", "update"]} in deploy["subresources"]
    _, core, headers = apiserver.request("GET", "/api", headers={"Accept": AGGREGATED})
    pods = next(r for r in core["items"][0]["versions"][0]["resources"] if r["resource"] == "pods")
    assert pods["shortNames"] == ["po"] and pods["categories"] == ["all"]


def test_legacy_discovery(apiserver: ApiServer) -> None:
    _, api, headers = apiserver.request("GET", "/api")
    assert headers["Content-Type"] == "application/json" and api["versions"] == ["v1"]
    _, groups, _ = apiserver.request("GET", "/apis")
    apps = next(g for g in groups["groups"] if g["name"] == "apps")
    assert apps["preferredVersion"] == {"groupVersion": "apps/v1", "version": "v1"}
    _, group, _ = apiserver.request("GET", "/apis/apps")
    assert group["kind"] == "APIGroup" and group["name"] == "apps"
    _, v1, _ = apiserver.request("GET", "/api/v1")
    eviction = next(r for r in v1["resources"] if r["name"] == "pods/eviction")
    assert (eviction["group"], eviction["version"], eviction["kind"]) == ("policy", "v1", "Eviction")


def test_openapi_root_and_immutable_documents(apiserver: ApiServer) -> None:
    _, root, _ = apiserver.request("GET", "/openapi/v3")
    url = root["paths"]["apis/apps/v1"]["serverRelativeURL"]
    code, doc, headers = apiserver.request("GET", url)
    assert code == 200 and headers["Cache-Control"] == "public, immutable"
    assert headers["Etag"].strip('"') == url.split("hash=")[1]
    patch = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"]["kind"] == "Deployment"
    assert "application/strategic-merge-patch+json" in patch["requestBody"]["content"]
    code, _, _ = apiserver.request("GET", url, headers={"If-None-Match": headers["Etag"]})
    assert code == 304


def test_partial_object_metadata(apiserver: ApiServer) -> None:
    name = f"pm-{uuid.uuid4().hex[:6]}"
    apiserver.request("POST", "/api/v1/namespaces/default/configmaps", {"metadata": {"name": name},
                                                                        "data": {"secret": "x"}})
    accept = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"
    _, listing, _ = apiserver.request("GET", "/api/v1/namespaces/default/configmaps", headers={"Accept": accept})
    assert listing["kind"] == "PartialObjectMetadataList"
    item = next(i for i in listing["items"] if i["metadata"]["name"] == name)
    assert "data" not in item and item["kind"] == "PartialObjectMetadata"


def test_table_include_object(apiserver: ApiServer) -> None:
    accept = "application/json;as=Table;v=v1;g=meta.k8s.io"
    _, table, _ = apiserver.request("GET", "/api/v1/namespaces?includeObject=Object", headers={"Accept": accept})
    assert table["kind"] == "Table" and table["columnDefinitions"][0]["name"] == "Name"
    assert table["rows"][0]["object"]["kind"] == "Namespace"
    _, table, _ = apiserver.request("GET", "/api/v1/namespaces?includeObject=None", headers={"Accept": accept})
    assert "object" not in table["rows"][0]
