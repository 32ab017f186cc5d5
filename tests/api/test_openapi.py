"""OpenAPI v3 documents: what kubectl apply/explain read from them."""

from __future__ import annotations

import http.server
import subprocess
import threading
from pathlib import Path

import orjson
import pytest
import yaml

from kwok.api.openapi import (
    PATCH_TYPES,
    REF,
    encode,
    explain,
    group_version_document,
    openapi_v3_group_version,
    openapi_v3_root,
)
from kwok.api.schema import get_schema
from tests.conftest import KUBECTL_137, SHARED_DIR

KWOK_CRDS = Path(SHARED_DIR + "/upstream/kwok/kustomize/crd/bases")
KUBECTLS = [k for k in ("/usr/lib/google-cloud-sdk/bin/kubectl.1.32", KUBECTL_137) if Path(k).exists()]


@pytest.fixture(scope="module")
def core():
    return group_version_document("", "v1")


@pytest.fixture(scope="module")
def apps():
    return group_version_document("apps", "v1")


def stage_crd():
    return yaml.load((KWOK_CRDS / "kwok.x-k8s.io_stages.yaml").read_text(), Loader=yaml.CSafeLoader)


def patch_operation(doc, kind):
    for path, item in doc["paths"].items():
        op = item.get("patch")
        if op and op["x-kubernetes-group-version-kind"]["kind"] == kind and not path.endswith(("/status", "/scale")):
            return path, op
    raise AssertionError(f"no PATCH for {kind}")


def test_root_lists_every_group_version_with_its_hash():
    root = openapi_v3_root(["v1", "apps/v1", "kwok.x-k8s.io/v1alpha1"], lambda gv: gv.upper().replace("/", "-"))
    assert root == {"paths": {
        "api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=V1"},
        "apis/apps/v1": {"serverRelativeURL": "/openapi/v3/apis/apps/v1?hash=APPS-V1"},
        "apis/kwok.x-k8s.io/v1alpha1": {"serverRelativeURL": "/openapi/v3/apis/kwok.x-k8s.io/v1alpha1?hash=KWOK.X-K8S.IO-V1ALPHA1"},
    }}


def test_every_served_kind_has_a_patch_operation_that_kubectl_apply_accepts():
    schema = get_schema()
    for group, versions in schema.group_versions():
        for version in versions:
            doc = group_version_document(group, version)
            for info in schema.resources:
                if (info.group, info.version) != (group, version) or "patch" not in info.verbs:
                    continue
                path, op = patch_operation(doc, info.kind)
                names = {p["name"] for p in op["parameters"]}
                assert {"fieldValidation", "fieldManager", "dryRun", "force"} <= names, path
                assert set(op["requestBody"]["content"]) == set(PATCH_TYPES), path
                assert op["x-kubernetes-group-version-kind"] == {"group": group, "version": version, "kind": info.kind}


def test_all_refs_resolve():
    docs = [group_version_document(g, v) for g, versions in get_schema().group_versions() for v in versions]
    for doc in [*docs, openapi_v3_group_version("kwok.x-k8s.io", "v1alpha1", [], [stage_crd()])]:
        schemas = doc["components"]["schemas"]
        refs = [r for r in _walk_refs(doc)]
        assert refs, "no $ref at all"
        missing = {r for r in refs if r[len(REF):] not in schemas}
        assert not missing


def _walk_refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _walk_refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk_refs(value)


def test_pod_schema_is_real(core):
    schemas = core["components"]["schemas"]
    pod = schemas["io.k8s.api.core.v1.Pod"]
    assert pod["x-kubernetes-group-version-kind"] == [{"group": "", "kind": "Pod", "version": "v1"}]
    assert set(pod["properties"]) == {"apiVersion", "kind", "metadata", "spec", "status"}
    containers = schemas["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]
    assert containers["type"] == "array"
    assert containers["items"] == {"$ref": REF + "io.k8s.api.core.v1.Container"}
    assert containers["x-kubernetes-patch-merge-key"] == "name"
    assert containers["x-kubernetes-patch-strategy"] == "merge"
    assert containers["x-kubernetes-list-type"] == "map"
    assert containers["x-kubernetes-list-map-keys"] == ["name"]
    assert schemas["io.k8s.api.core.v1.PodSpec"]["required"] == ["containers"]
    assert schemas["io.k8s.api.core.v1.PodSpec"]["properties"]["nodeSelector"]["additionalProperties"] == {"type": "string"}
    meta = schemas["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]["properties"]
    assert meta["creationTimestamp"]["allOf"] == [{"$ref": REF + "io.k8s.apimachinery.pkg.apis.meta.v1.Time"}]
    assert schemas["io.k8s.apimachinery.pkg.apis.meta.v1.Time"]["format"] == "date-time"
    assert schemas["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]["x-kubernetes-int-or-string"] is True
    resources = schemas["io.k8s.api.core.v1.ResourceRequirements"]["properties"]["limits"]
    assert resources["additionalProperties"] == {"$ref": REF + "io.k8s.apimachinery.pkg.api.resource.Quantity"}
    volume = schemas["io.k8s.api.core.v1.Volume"]["properties"]
    assert "configMap" in volume and "volumeSource" not in volume  # embedded VolumeSource is inline
    assert schemas["io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector"]["x-kubernetes-map-type"] == "atomic"


def test_explain_walks_pod_spec_containers(core):
    spec = explain(core, "", "v1", "Pod", ["spec"])
    assert spec.type == "PodSpec"
    assert "containers" in spec.required
    containers = explain(core, "", "v1", "Pod", ["spec", "containers"])
    assert containers.type == "[]Container"
    assert containers.description.startswith("List of containers belonging to the pod.")
    fields = {name: (kind, required) for name, kind, required in containers.fields}
    assert fields["name"] == ("string", True)
    assert fields["image"] == ("string", False)
    assert fields["ports"] == ("[]ContainerPort", False)
    assert fields["resources"] == ("ResourceRequirements", False)
    assert explain(core, "", "v1", "Pod", ["metadata", "labels"]).type == "map[string]string"
    with pytest.raises(KeyError, match="nosuch"):
        explain(core, "", "v1", "Pod", ["spec", "nosuch"])


def test_subresources_have_their_own_kinds(apps, core):
    scale = apps["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"]["patch"]
    assert scale["x-kubernetes-group-version-kind"] == {"group": "autoscaling", "kind": "Scale", "version": "v1"}
    assert "io.k8s.api.autoscaling.v1.Scale" in apps["components"]["schemas"]
    eviction = core["paths"]["/api/v1/namespaces/{namespace}/pods/{name}/eviction"]
    assert set(eviction) - {"parameters"} == {"post"}
    assert set(core["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"]) == {
        "get", "put", "patch", "delete", "parameters"}
    assert set(core["paths"]["/api/v1/namespaces/{namespace}/pods"]) == {"get", "post", "delete", "parameters"}
    log = core["paths"]["/api/v1/namespaces/{namespace}/pods/{name}/log"]["get"]
    assert log["operationId"] == "readCoreV1NamespacedPodLog"
    assert log["responses"]["200"]["content"]["*/*"]["schema"] == {"type": "string"}
    assert "/api/v1/pods" in core["paths"]                   # list across namespaces
    assert "/api/v1/nodes/{name}" in core["paths"]           # cluster scoped: no namespace


def test_review_kinds_are_create_only():
    doc = group_version_document("authorization.k8s.io", "v1")
    path = doc["paths"]["/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"]
    assert set(path) == {"post", "parameters"}


def test_custom_resources_never_offer_strategic_merge_patch():
    doc = openapi_v3_group_version("kwok.x-k8s.io", "v1alpha1", [], [stage_crd()])
    path, op = patch_operation(doc, "Stage")
    assert path == "/apis/kwok.x-k8s.io/v1alpha1/stages/{name}"        # Stage is cluster scoped
    assert "application/strategic-merge-patch+json" not in op["requestBody"]["content"]
    assert "application/merge-patch+json" in op["requestBody"]["content"]
    stage = doc["components"]["schemas"]["io.x-k8s.kwok.v1alpha1.Stage"]
    assert stage["x-kubernetes-group-version-kind"] == [{"group": "kwok.x-k8s.io", "kind": "Stage", "version": "v1alpha1"}]
    assert stage["properties"]["spec"]["properties"]["resourceRef"]["type"] == "object"
    assert stage["properties"]["metadata"]["allOf"][0]["$ref"].endswith("meta.v1.ObjectMeta")
    assert explain(doc, "kwok.x-k8s.io", "v1alpha1", "Stage", ["spec"]).type == "Object"


def test_a_crd_of_another_group_is_ignored():
    assert openapi_v3_group_version("example.com", "v1", [], [stage_crd()])["paths"] == {}


def test_documents_are_cached_and_hashed(core):
    assert group_version_document("", "v1") == core
    data, digest = encode(core)
    assert orjson.loads(data) == core
    assert len(digest) == 128 and digest == digest.upper()
    assert encode(core)[1] == digest                              # stable: the hash is a cache key


# -- kubectl explain against the documents ----------------------------------------------------------
class _FakeServer(http.server.BaseHTTPRequestHandler):
    """Just enough API server for `kubectl explain`: version, aggregated discovery, OpenAPI v3."""

    requests: list[str] = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.requests.append(self.path)
        path = self.path.split("?")[0]
        if "/namespaces/" in path:   # no objects: `apply` then creates
            body = b'{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}'
            return self._reply(body, code=404)
        if path == "/version":
            return self._reply(b'{"major":"1","minor":"32","gitVersion":"v1.32.4"}')
        if path in ("/api", "/apis"):
            return self._reply(orjson.dumps(_discovery(core=path == "/api")),
                               "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList")
        if path == "/openapi/v3":
            gvs = [f"{g}/{v}" if g else v for g, vs in get_schema().group_versions() for v in vs]
            root = openapi_v3_root(gvs, lambda gv: encode(_doc(gv))[1])
            return self._reply(orjson.dumps(root))
        if path.startswith("/openapi/v3/"):
            gv = path[len("/openapi/v3/"):].removeprefix("api/").removeprefix("apis/")
            return self._reply(encode(_doc(gv))[0])
        self.send_error(404)

    def _reply(self, body, content_type="application/json", code=200):
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _doc(gv):
    group, _, version = gv.rpartition("/")
    return group_version_document(group, version)


def _discovery(core):
    groups = []
    for group, versions in get_schema().group_versions():
        if (group == "") != core:
            continue
        groups.append({"metadata": {"name": group}, "versions": [{"version": v, "freshness": "Current", "resources": [
            {"resource": r.plural, "responseKind": {"group": r.group, "version": r.version, "kind": r.kind},
             "scope": "Namespaced" if r.namespaced else "Cluster", "singularResource": r.singular,
             "verbs": list(r.verbs), "shortNames": list(r.short_names), "categories": list(r.categories)}
            for r in get_schema().resources if (r.group, r.version) == (group, v)]} for v in versions]})
    return {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": groups}


@pytest.fixture(scope="module")
def fake_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FakeServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.skipif(not KUBECTLS, reason="no kubectl")
@pytest.mark.parametrize("kubectl", KUBECTLS, ids=lambda k: Path(k).name)
def test_kubectl_explain_reads_the_documents(fake_server, tmp_path, kubectl):
    def run(*args):
        done = subprocess.run([kubectl, f"--server={fake_server}", f"--cache-dir={tmp_path}", "explain", *args],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout

    out = run("pods.spec.containers")
    assert "FIELD: containers <[]Container>" in out
    assert "List of containers belonging to the pod." in out
    assert "name\t<string> -required-" in out
    assert "ports\t<[]ContainerPort>" in out
    out = run("deploy.spec")
    assert "template\t<PodTemplateSpec> -required-" in out
    assert "replicas\t<integer>" in out


@pytest.mark.skipif(not KUBECTLS, reason="no kubectl")
@pytest.mark.parametrize("kubectl", KUBECTLS, ids=lambda k: Path(k).name)
def test_kubectl_apply_validates_with_v3_without_falling_back_to_v2(fake_server, tmp_path, kubectl):
    manifest = tmp_path / "deploy.yaml"
    manifest.write_text(yaml.dump({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d1", "namespace": "default"},
        "spec": {"selector": {"matchLabels": {"app": "a"}}, "template": {
            "metadata": {"labels": {"app": "a"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}))
    _FakeServer.requests.clear()
    done = subprocess.run([kubectl, f"--server={fake_server}", f"--cache-dir={tmp_path}", "apply", "-f",
                           str(manifest), "--dry-run=client"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "deployment.apps/d1 created (dry run)" in done.stdout
    assert any(r.startswith("/openapi/v3/apis/apps/v1?hash=") for r in _FakeServer.requests)
    assert not any(r.startswith("/openapi/v2") for r in _FakeServer.requests)


def test_custom_resource_subresources_and_open_schema():
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "widgets.example.com"},
           "spec": {"group": "example.com", "scope": "Namespaced",
                    "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
                    "versions": [
                        {"name": "v1", "served": True, "storage": True,
                         "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.replicas",
                                                                  "statusReplicasPath": ".status.replicas"}}},
                        {"name": "v2", "served": False, "storage": False}]}}
    doc = openapi_v3_group_version("example.com", "v1", [], [crd])
    base = "/apis/example.com/v1/namespaces/{namespace}/widgets"
    assert {base, f"{base}/{{name}}", f"{base}/{{name}}/status", f"{base}/{{name}}/scale",
            "/apis/example.com/v1/widgets"} <= set(doc["paths"])
    scale = doc["paths"][f"{base}/{{name}}/scale"]["patch"]
    assert scale["x-kubernetes-group-version-kind"]["kind"] == "Scale"
    assert "application/strategic-merge-patch+json" not in scale["requestBody"]["content"]
    widget = doc["components"]["schemas"]["com.example.v1.Widget"]
    assert widget["x-kubernetes-preserve-unknown-fields"] is True
    widgets = doc["components"]["schemas"]["com.example.v1.WidgetList"]
    assert widgets["x-kubernetes-group-version-kind"] == [{"group": "example.com", "kind": "WidgetList", "version": "v1"}]
    assert openapi_v3_group_version("example.com", "v2", [], [crd])["paths"] == {}   # not served
