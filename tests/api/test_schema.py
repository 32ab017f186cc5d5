"""The shipped schema: REST facts as a 1.36 cluster serves them, and type facts from the protos."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kwok.api.schema import get_schema

ROOT = Path(__file__).resolve().parents[2]
POD = "k8s.io.api.core.v1.Pod"


@pytest.fixture(scope="module")
def schema():
    return get_schema()


def test_schema_is_loaded_once(schema):
    assert get_schema() is schema
    assert schema.message(POD) is schema.message(POD)


def test_generated_file_is_up_to_date():
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "gen_schema.py"), "--check"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "up to date" in done.stdout


def test_check_reports_a_stale_file(tmp_path):
    (tmp_path / "schema.json").write_text("{}")
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "gen_schema.py"), "--check",
                           "--output", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "out of date: schema.json, descriptions.json" in done.stdout


def test_every_served_builtin_kind_has_its_proto_message(schema):
    missing = [r.plural for r in schema.resources if r.message is None]
    assert missing == ["customresourcedefinitions"]  # its proto is not part of k8s.io/api
    for r in schema.resources:
        if r.message:
            assert schema.message(r.message) is not None, r


@pytest.mark.parametrize(("group_version", "plural", "kind", "namespaced", "short_names"), [
    ("v1", "pods", "Pod", True, ("po",)),
    ("v1", "nodes", "Node", False, ("no",)),
    ("v1", "resourcequotas", "ResourceQuota", True, ("quota",)),
    ("v1", "limitranges", "LimitRange", True, ("limits",)),
    ("apps/v1", "deployments", "Deployment", True, ("deploy",)),
    ("batch/v1", "cronjobs", "CronJob", True, ("cj",)),
    ("apiextensions.k8s.io/v1", "customresourcedefinitions", "CustomResourceDefinition", False,
     ("crd", "crds")),
    ("certificates.k8s.io/v1", "certificatesigningrequests", "CertificateSigningRequest", False, ("csr",)),
    ("storage.k8s.io/v1", "storageclasses", "StorageClass", False, ("sc",)),
    ("resource.k8s.io/v1", "resourceclaims", "ResourceClaim", True, ()),
])
def test_rest_facts(schema, group_version, plural, kind, namespaced, short_names):
    group, _, version = group_version.rpartition("/")
    info = schema.resource(group, version, plural)
    assert info is not None
    assert (info.kind, info.namespaced, info.short_names) == (kind, namespaced, short_names)
    assert schema.resource_for_kind(group, version, kind) is info
    assert info.group_version == group_version
    assert info.singular == kind.lower()


def test_kubectl_get_all_lists_exactly_the_all_category(schema):
    in_all = {r.plural for r in schema.resources if "all" in r.categories}
    assert in_all == {"pods", "services", "replicationcontrollers", "deployments", "replicasets",
                      "statefulsets", "daemonsets", "jobs", "cronjobs", "horizontalpodautoscalers"}


def test_review_kinds_are_create_only_and_have_no_list(schema):
    for plural in ("selfsubjectaccessreviews", "selfsubjectrulesreviews", "subjectaccessreviews"):
        info = schema.resource("authorization.k8s.io", "v1", plural)
        assert info.verbs == ("create",) and info.list_kind == ""
    assert schema.resource("authentication.k8s.io", "v1", "tokenreviews").verbs == ("create",)
    assert schema.resource("", "v1", "pods").list_kind == "PodList"


def test_subresources_carry_the_kind_discovery_shows(schema):
    assert set(schema.resource("", "v1", "pods").subresources) == {
        "status", "binding", "eviction", "log", "exec", "attach", "portforward", "proxy",
        "ephemeralcontainers", "resize"}
    eviction = schema.subresource("", "v1", "pods", "eviction")
    assert (eviction.group, eviction.version, eviction.kind, eviction.verbs) == ("policy", "v1", "Eviction", ("create",))
    scale = schema.subresource("apps", "v1", "deployments", "scale")
    assert (scale.group, scale.kind) == ("autoscaling", "Scale")
    assert schema.subresource("apps", "v1", "deployments", "status").kind == "Deployment"
    token = schema.subresource("", "v1", "serviceaccounts", "token")
    assert (token.group, token.kind) == ("authentication.k8s.io", "TokenRequest")
    assert schema.subresource("", "v1", "configmaps", "status") is None


def test_preferred_version_comes_first_and_core_leads(schema):
    order = dict(schema.group_versions())
    assert order["autoscaling"] == ["v2", "v1"]
    assert next(iter(order)) == ""
    # `ev` must resolve to core events: core precedes events.k8s.io in discovery
    groups = list(order)
    assert groups.index("") < groups.index("events.k8s.io")


def test_pod_containers_merge_by_name(schema):
    containers = schema.field_path(POD, ("spec", "containers"))
    assert containers.repeated and containers.ref == "k8s.io.api.core.v1.Container"
    assert (containers.patch_strategy, containers.patch_merge_key) == ("merge", "name")
    assert (containers.list_type, containers.list_map_keys) == ("map", ("name",))
    assert not containers.optional
    volumes = schema.field_path(POD, ("spec", "volumes"))
    assert volumes.patch_strategy == "merge,retainKeys"


def test_field_path_walks_through_lists_and_maps(schema):
    port = schema.field_path(POD, ("spec", "containers", "ports", "containerPort"))
    assert port.type == "int32" and port.number == 3
    ports = schema.field_path(POD, ("spec", "containers", "ports"))
    assert ports.list_map_keys == ("containerPort", "protocol")
    capacity = schema.field_path("k8s.io.api.core.v1.Node", ("status", "capacity", "cpu"))
    assert capacity.name == "capacity" and capacity.map_value == "quantity"
    labels = schema.field_path(POD, ("metadata", "labels"))
    assert labels.map_value == "string"
    assert schema.field_path(POD, ("spec", "nosuchfield")) is None
    assert schema.field_path(POD, ("metadata", "name", "deeper")) is None
    assert schema.field_path("no.such.Message", ("spec",)) is None


def test_kubernetes_special_types(schema):
    meta = "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    assert schema.field_path(meta, ("creationTimestamp",)).type == "time"
    assert schema.field_path(meta, ("managedFields", "fieldsV1")).type == "fieldsv1"
    assert schema.field_path("k8s.io.api.coordination.v1.Lease", ("spec", "renewTime")).type == "microtime"
    assert schema.field_path("k8s.io.api.core.v1.Service", ("spec", "ports", "targetPort")).type == "intstr"
    extra = schema.field_path("k8s.io.api.authentication.v1.UserInfo", ("extra",))
    assert extra.map_value == "stringlist"


def test_message_for_kind_finds_request_only_kinds(schema):
    assert schema.message_for_kind("apps", "v1", "Deployment") == "k8s.io.api.apps.v1.Deployment"
    assert schema.message_for_kind("autoscaling", "v1", "Scale") == "k8s.io.api.autoscaling.v1.Scale"
    assert schema.message_for_kind("policy", "v1", "Eviction") == "k8s.io.api.policy.v1.Eviction"
    assert schema.message_for_kind("", "v1", "DeleteOptions").endswith("meta.v1.DeleteOptions")
    assert schema.message_for_kind("rbac.authorization.k8s.io", "v1", "Role") == "k8s.io.api.rbac.v1.Role"
    assert schema.message_for_kind("apps", "v1", "NoSuchKind") is None
    assert schema.message_for_kind("apiextensions.k8s.io", "v1", "CustomResourceDefinition") is None


def test_embedded_structs_are_flattened_in_the_json_view(schema):
    volume = schema.message("k8s.io.api.core.v1.Volume")
    assert "configMap" in volume.fields and "volumeSource" not in volume.fields
    assert volume.by_number[2].name == "volumeSource" and volume.by_number[2].inline
    assert schema.field_path(POD, ("spec", "volumes", "configMap", "name")).type == "string"
    probe = schema.field_path(POD, ("spec", "containers", "livenessProbe", "httpGet", "port"))
    assert probe.type == "intstr"


def test_json_names_that_differ_from_proto_names(schema):
    reference = schema.message("k8s.io.api.networking.v1.IngressClassParametersReference")
    assert "apiGroup" in reference.fields and "aPIGroup" not in reference.fields
    webhooks = schema.message("k8s.io.api.admissionregistration.v1.ValidatingWebhookConfiguration")
    assert "webhooks" in webhooks.fields
    endpoint = schema.message("k8s.io.api.core.v1.DaemonEndpoint")
    assert "Port" in endpoint.fields  # kubeletEndpoint really is {"Port": 10250}


def test_zero_values_that_json_keeps(schema):
    replicas = schema.field_path("k8s.io.api.apps.v1.Deployment", ("spec", "replicas"))
    assert replicas.optional and replicas.keep_zero
    min_ready = schema.field_path("k8s.io.api.apps.v1.Deployment", ("spec", "minReadySeconds"))
    assert min_ready.optional and not min_ready.keep_zero
    meta = "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    assert schema.field_path(meta, ("creationTimestamp",)).omit_zero
    assert not schema.field_path(meta, ("deletionTimestamp",)).omit_zero


def test_required_follows_the_openapi_rules(schema):
    spec = schema.message("k8s.io.api.core.v1.PodSpec")
    assert not spec.fields["containers"].optional
    assert spec.fields["initContainers"].optional
    assert schema.message("k8s.io.api.core.v1.Container").fields["name"].optional is False


def test_atomic_structs_and_maps(schema):
    assert schema.message("k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector").atomic
    assert not schema.message("k8s.io.api.core.v1.PodSpec").atomic
    assert schema.field_path(POD, ("spec", "nodeSelector")).map_type == "atomic"
