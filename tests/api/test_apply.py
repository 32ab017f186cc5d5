"""Server-side apply: merging, pruning, ownership and the exact 409 a real API server returns."""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest

from kwok.api.apply import LAST_APPLIED, ApplyConflict, apply
from kwok.api.errors import ApiError
from kwok.api.managedfields import update_managed_fields

T0, T1, T2 = "2026-11-27T10:00:00Z", "2026-11-27T10:05:00Z", "2026-11-27T10:09:00Z"


def deployment(replicas: int = 1, image: str = "nginx:1.27", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "nginx", "image": image}]}}, **spec},
    }


def managers(obj: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["manager"], e["operation"]) for e in obj["metadata"].get("managedFields", [])]


def owned(obj: dict[str, Any], manager: str) -> dict[str, Any]:
    return next(e["fieldsV1"] for e in obj["metadata"]["managedFields"] if e["manager"] == manager)


def containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    return obj["spec"]["template"]["spec"]["containers"]  # type: ignore[no-any-return]


def test_apply_creates_with_an_apply_entry() -> None:
    created = apply(None, deployment(), "kubectl", False, "apps/v1", T0)
    assert created["spec"]["replicas"] == 1
    assert created["metadata"]["managedFields"] == [{
        "manager": "kubectl", "operation": "Apply", "apiVersion": "apps/v1", "time": T0, "fieldsType": "FieldsV1",
        "fieldsV1": {"f:spec": {"f:replicas": {}, "f:selector": {}, "f:template": {
            "f:metadata": {"f:labels": {"f:app": {}}},
            "f:spec": {"f:containers": {'k:{"name":"nginx"}': {".": {}, "f:image": {}, "f:name": {}}}}}}},
    }]


def client_side_applied() -> dict[str, Any]:
    return update_managed_fields(None, deployment(), "kubectl-client-side-apply", "Update", "apps/v1", T0)


def test_changing_a_field_another_manager_owns_is_the_real_409() -> None:
    with pytest.raises(ApplyConflict) as raised:
        apply(client_side_applied(), deployment(replicas=3), "kubectl", False, "apps/v1", T1)
    assert raised.value.code == 409
    assert raised.value.status == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: '
                   ".spec.replicas",
        "reason": "Conflict",
        "details": {"causes": [{"reason": "FieldManagerConflict",
                                "message": 'conflict with "kubectl-client-side-apply" using apps/v1',
                                "field": ".spec.replicas"}]},
        "code": 409,
    }
    assert isinstance(raised.value, ApiError)


def test_several_conflicts_are_grouped_by_manager() -> None:
    live = apply(None, deployment(), "alice", False, "apps/v1", T0)
    scaled = copy.deepcopy(live)
    scaled["spec"]["replicas"] = 2
    live = update_managed_fields(live, scaled, "hpa", "Update", "apps/v1", T1)
    with pytest.raises(ApplyConflict) as raised:
        apply(live, deployment(replicas=5, image="nginx:2"), "bob", False, "apps/v1", T2)
    assert raised.value.message == (
        'Apply failed with 2 conflicts: conflicts with "alice":\n'
        '- .spec.template.spec.containers[name="nginx"].image\n'
        'conflicts with "hpa" using apps/v1:\n'
        "- .spec.replicas")
    assert raised.value.conflicts == [("alice", '.spec.template.spec.containers[name="nginx"].image'),
                                      ("hpa", ".spec.replicas")]


def test_force_takes_ownership() -> None:
    forced = apply(client_side_applied(), deployment(replicas=3), "kubectl", True, "apps/v1", T1)
    assert forced["spec"]["replicas"] == 3
    assert "f:replicas" in owned(forced, "kubectl")["f:spec"]
    assert "f:replicas" not in owned(forced, "kubectl-client-side-apply")["f:spec"]


def test_applying_the_same_value_shares_ownership() -> None:
    shared = apply(client_side_applied(), deployment(), "kubectl", False, "apps/v1", T1)
    assert managers(shared) == [("kubectl", "Apply"), ("kubectl-client-side-apply", "Update")]
    assert "f:replicas" in owned(shared, "kubectl")["f:spec"]
    assert "f:replicas" in owned(shared, "kubectl-client-side-apply")["f:spec"]


def test_fields_dropped_from_the_configuration_are_removed_unless_someone_else_owns_them() -> None:
    with_sidecar = deployment()
    containers(with_sidecar).append({"name": "log", "image": "busybox"})
    first = apply(None, {**with_sidecar, "metadata": {**with_sidecar["metadata"], "labels": {"a": "1", "b": "2"}}},
                  "kubectl", False, "apps/v1", T0)
    second = apply(first, {**deployment(), "metadata": {**with_sidecar["metadata"], "labels": {"a": "1"}}},
                   "kubectl", False, "apps/v1", T1)
    assert [c["name"] for c in containers(second)] == ["nginx"]
    assert second["metadata"]["labels"] == {"a": "1"}
    # another applier that also set `b` keeps it alive
    other = apply(first, {"apiVersion": "apps/v1", "kind": "Deployment",
                          "metadata": {"name": "web", "labels": {"b": "2"}}}, "other", False, "apps/v1", T1)
    third = apply(other, {**deployment(), "metadata": {**with_sidecar["metadata"], "labels": {"a": "1"}}},
                  "kubectl", False, "apps/v1", T2)
    assert third["metadata"]["labels"] == {"a": "1", "b": "2"}


def test_keyed_lists_merge_by_key_and_keep_items_of_other_managers() -> None:
    live = client_side_applied()
    config = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
              "spec": {"template": {"spec": {"containers": [{"name": "sidecar", "image": "envoy"}]}}}}
    merged = apply(live, config, "mesh", False, "apps/v1", T1)
    assert containers(merged) == [{"name": "nginx", "image": "nginx:1.27"}, {"name": "sidecar", "image": "envoy"}]
    assert merged["spec"]["replicas"] == 1


def test_keyed_list_keeps_live_items_in_place_and_appends_new_ones() -> None:
    live = apply(None, {**deployment(), "spec": {**deployment()["spec"], "template": {"spec": {"containers": [
        {"name": "a"}, {"name": "c"}]}}}}, "one", False, "apps/v1", T0)
    config = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
              "spec": {"template": {"spec": {"containers": [{"name": "a"}, {"name": "b"}]}}}}
    merged = apply(live, config, "two", False, "apps/v1", T1)
    assert [c["name"] for c in containers(merged)] == ["a", "c", "b"]
    reordered = {**config, "spec": {"template": {"spec": {"containers": [{"name": "c"}, {"name": "a"}]}}}}
    assert [c["name"] for c in containers(apply(live, reordered, "one", False, "apps/v1", T1))] == ["c", "a"]


def test_set_lists_merge_by_value() -> None:
    live = apply(None, {**deployment(), "metadata": {"name": "web", "finalizers": ["x/a"]}}, "one", False,
                 "apps/v1", T0)
    merged = apply(live, {"apiVersion": "apps/v1", "kind": "Deployment",
                          "metadata": {"name": "web", "finalizers": ["x/b"]}}, "two", False, "apps/v1", T1)
    assert merged["metadata"]["finalizers"] == ["x/a", "x/b"]


def test_custom_resource_lists_are_atomic() -> None:
    def widget(tags: list[str]) -> dict[str, Any]:
        return {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
                "spec": {"tags": tags, "size": 1}}

    live = apply(None, widget(["a", "b"]), "one", False, "example.com/v1", T0)
    assert owned(live, "one") == {"f:spec": {".": {}, "f:size": {}, "f:tags": {}}}
    with pytest.raises(ApplyConflict) as raised:
        apply(live, widget(["c"]), "two", False, "example.com/v1", T1)
    assert raised.value.conflicts == [("one", ".spec.tags")]
    assert apply(live, widget(["c"]), "two", True, "example.com/v1", T1)["spec"]["tags"] == ["c"]


def test_atomic_structs_are_replaced_whole() -> None:
    live = apply(None, deployment(), "kubectl", False, "apps/v1", T0)
    config = deployment()
    config["spec"]["selector"] = {"matchExpressions": [{"key": "app", "operator": "Exists"}]}
    assert apply(live, config, "kubectl", False, "apps/v1", T1)["spec"]["selector"] == config["spec"]["selector"]


def test_null_in_the_configuration_unsets_the_field() -> None:
    live = apply(None, deployment(paused=True), "kubectl", False, "apps/v1", T0)
    assert "paused" not in apply(live, deployment(paused=None), "kubectl", False, "apps/v1", T1)["spec"]


def test_a_no_op_apply_keeps_the_entry_time() -> None:
    live = apply(None, deployment(), "kubectl", False, "apps/v1", T0)
    again = apply(live, deployment(), "kubectl", False, "apps/v1", T1)
    assert again["metadata"]["managedFields"][0]["time"] == T0
    changed = apply(live, deployment(replicas=2), "kubectl", False, "apps/v1", T2)
    assert changed["metadata"]["managedFields"][0]["time"] == T2


def test_objects_without_managed_fields_belong_to_before_first_apply() -> None:
    with pytest.raises(ApplyConflict) as raised:
        apply(deployment(), deployment(replicas=4), "kubectl", False, "apps/v1", T1)
    assert raised.value.message.endswith('conflict with "before-first-apply" using apps/v1: .spec.replicas')


@pytest.mark.parametrize(
    ("changes", "message"),
    [({"apiVersion": "apps/v1beta1"}, "invalid object type: apps/v1beta1, Kind=Deployment"),
     ({"kind": "StatefulSet"}, "invalid object type: apps/v1, Kind=StatefulSet"),
     ({"apiVersion": None, "kind": None}, "invalid object type: /, Kind="),
     ({"metadata": {"name": "web", "managedFields": []}}, "metadata.managedFields must be nil")],
)
def test_bad_apply_configurations_are_400(changes: dict[str, Any], message: str) -> None:
    config = {key: value for key, value in {**deployment(), **changes}.items() if value is not None}
    with pytest.raises(ApiError) as raised:
        apply(client_side_applied(), config, "kubectl", False, "apps/v1", T1, kind="Deployment")
    assert (raised.value.code, raised.value.reason, raised.value.message) == (400, "BadRequest", message)


def test_kubectl_server_side_apply_takes_over_client_side_applied_fields() -> None:
    last = deployment()
    live = client_side_applied()
    live["metadata"]["annotations"] = {LAST_APPLIED: orjson.dumps(last).decode() + "\n"}
    config = deployment(replicas=3)
    upgraded = apply(live, config, "kubectl", False, "apps/v1", T1)
    assert upgraded["spec"]["replicas"] == 3
    annotation = orjson.loads(upgraded["metadata"]["annotations"][LAST_APPLIED])
    assert annotation["spec"]["replicas"] == 3
    assert upgraded["metadata"]["annotations"][LAST_APPLIED].endswith("\n")
    # any other manager still conflicts
    with pytest.raises(ApplyConflict):
        apply(live, config, "someone", False, "apps/v1", T1)


def test_the_served_resource_info_can_stand_for_version_kind_and_schema() -> None:
    from kwok.api.schema import get_schema

    info = get_schema().resource("apps", "v1", "deployments")
    assert info is not None
    created = apply(None, deployment(), "kubectl", False, info, T0)
    assert created["metadata"]["managedFields"][0]["apiVersion"] == "apps/v1"
    with pytest.raises(ApiError, match="invalid object type: apps/v1, Kind=StatefulSet"):
        apply(None, {**deployment(), "kind": "StatefulSet"}, "kubectl", False, info, T0)


# --- end to end: kubectl apply --server-side against `kwok apiserver` ------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from tests.apiserver.harness import ApiServer

    started = ApiServer(tmp_path_factory.mktemp("apply")).start()
    yield started
    started.stop()


def test_kubectl_server_side_apply_conflicts_and_force(server: Any, kubectl_bin: str) -> None:
    import json
    import uuid

    config = deployment()
    config["metadata"]["name"] = name = f"web-{uuid.uuid4().hex[:6]}"
    server.kubectl(kubectl_bin, "apply", "--server-side", "-f", "-", stdin=json.dumps(config))
    config["spec"]["replicas"] = 4
    refused = server.kubectl(kubectl_bin, "apply", "--server-side", "--field-manager=ops", "-f", "-",
                             stdin=json.dumps(config), check=False)
    assert refused.returncode != 0
    assert 'error: Apply failed with 1 conflict: conflict with "kubectl": .spec.replicas' in refused.stderr
    server.kubectl(kubectl_bin, "apply", "--server-side", "--field-manager=ops", "--force-conflicts", "-f", "-",
                   stdin=json.dumps(config))
    live = json.loads(server.kubectl(kubectl_bin, "get", "deploy", name, "-o", "json",
                                     "--show-managed-fields").stdout)
    assert live["spec"]["replicas"] == 4
    assert [(e["manager"], e["operation"]) for e in live["metadata"]["managedFields"]] == [
        ("kubectl", "Apply"), ("ops", "Apply")]
    assert "f:replicas" not in owned(live, "kubectl")["f:spec"]
    assert owned(live, "ops")["f:spec"]["f:replicas"] == {}


def test_kubectl_moves_from_client_side_to_server_side_apply(server: Any, kubectl_bin: str) -> None:
    import json
    import uuid

    config = deployment()
    config["metadata"]["name"] = name = f"web-{uuid.uuid4().hex[:6]}"
    server.kubectl(kubectl_bin, "apply", "-f", "-", stdin=json.dumps(config))
    config["spec"]["replicas"] = 2
    server.kubectl(kubectl_bin, "apply", "--server-side", "-f", "-", stdin=json.dumps(config))
    live = json.loads(server.kubectl(kubectl_bin, "get", "deploy", name, "-o", "json").stdout)
    assert live["spec"]["replicas"] == 2
    assert orjson.loads(live["metadata"]["annotations"][LAST_APPLIED])["spec"]["replicas"] == 2


def test_reset_fields_are_neither_merged_nor_owned() -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
           "spec": {"containers": [{"name": "c", "image": "x"}]}, "status": {"phase": "Running"}}
    created = apply(None, pod, "kubectl", False, "v1", T0, ignored=[("status",)])
    assert "status" not in created and "f:status" not in owned(created, "kubectl")
    status = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "status": {"phase": "Running"},
              "spec": {"nodeName": "elsewhere"}}
    running = apply(created, status, "kwok", False, "v1", T1, subresource="status", ignored=[("spec",)])
    assert running["status"] == {"phase": "Running"} and "nodeName" not in running["spec"]
    entry = next(e for e in running["metadata"]["managedFields"] if e["manager"] == "kwok")
    assert entry["subresource"] == "status" and entry["fieldsV1"] == {"f:status": {"f:phase": {}}}


def test_ports_without_protocol_are_keyed_by_the_tcp_default() -> None:
    config = deployment()
    containers(config)[0]["ports"] = [{"containerPort": 80}]
    live = apply(None, config, "kubectl", False, "apps/v1", T0)
    containers(live)[0]["ports"][0]["protocol"] = "TCP"  # what the server's defaulting then adds
    again = apply(live, config, "kubectl", False, "apps/v1", T1)
    assert containers(again)[0]["ports"] == [{"containerPort": 80, "protocol": "TCP"}]
    ports = owned(again, "kubectl")["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"nginx"}']["f:ports"]
    assert ports == {'k:{"containerPort":80,"protocol":"TCP"}': {".": {}, "f:containerPort": {}}}


def test_keyed_items_without_their_key_are_the_upstream_500() -> None:
    config = deployment()
    containers(config).append({"image": "busybox"})
    with pytest.raises(ApiError) as raised:
        apply(None, config, "kubectl", False, "apps/v1", T0)
    assert raised.value.code == 500 and raised.value.reason == ""
    assert raised.value.message == (
        "failed to create typed patch object (apps/v1, Kind=Deployment): .spec.template.spec.containers: "
        'element 1: associative list with keys has an element that omits key field "name" '
        "(and doesn't have default value)")


def test_the_result_shares_nothing_with_the_inputs() -> None:
    live = client_side_applied()
    config = deployment(replicas=1)
    before_live, before_config = copy.deepcopy(live), copy.deepcopy(config)
    result = apply(live, config, "kubectl", False, "apps/v1", T1)
    containers(result)[0]["image"] = "changed"
    result["spec"]["selector"]["matchLabels"]["x"] = "y"
    assert live == before_live and config == before_config


WIDGET_SCHEMA: dict[str, Any] = {"type": "object", "properties": {
    "apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"},
    "spec": {"type": "object", "properties": {
        "size": {"type": "integer"},
        "ports": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                  "items": {"type": "object", "properties": {"name": {"type": "string"},
                                                             "port": {"type": "integer"}}}},
        "tags": {"type": "array", "items": {"type": "string"}},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "blob": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}}}


def test_custom_resources_with_a_structural_schema_merge_by_its_list_types() -> None:
    from kwok.api.managedfields import OpenAPITypes

    types = OpenAPITypes(WIDGET_SCHEMA)

    def widget(**spec: Any) -> dict[str, Any]:
        return {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": spec}

    live = apply(None, widget(size=1, ports=[{"name": "http", "port": 80}], tags=["a"], labels={"x": "1"},
                              blob={"k": {"n": 1}}), "one", False, "example.com/v1", T0, resolver=types)
    assert owned(live, "one") == {"f:spec": {
        "f:blob": {"f:k": {".": {}, "f:n": {}}}, "f:labels": {"f:x": {}},
        "f:ports": {'k:{"name":"http"}': {".": {}, "f:name": {}, "f:port": {}}}, "f:size": {}, "f:tags": {}}}
    merged = apply(live, widget(ports=[{"name": "metrics", "port": 9090}], labels={"y": "2"}), "two", False,
                   "example.com/v1", T1, resolver=types)
    assert merged["spec"]["ports"] == [{"name": "http", "port": 80}, {"name": "metrics", "port": 9090}]
    assert merged["spec"]["labels"] == {"x": "1", "y": "2"}
    with pytest.raises(ApplyConflict) as raised:
        apply(live, widget(tags=["b"]), "two", False, "example.com/v1", T1, resolver=types)
    assert raised.value.conflicts == [("one", ".spec.tags")]


def test_conflicts_name_the_subresource_of_the_owner() -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]}}
    live = update_managed_fields(None, pod, "kubectl-run", "Update", "v1", T0)
    running = copy.deepcopy(live)
    running["status"] = {"phase": "Running"}
    live = update_managed_fields(live, running, "kwok", "Update", "v1", T1, subresource="status")
    failed = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "status": {"phase": "Failed"}}
    with pytest.raises(ApplyConflict) as raised:
        apply(live, failed, "chaos", False, "v1", T2, subresource="status", ignored=[("spec",)])
    assert raised.value.message == ('Apply failed with 1 conflict: conflict with "kwok" with subresource "status" '
                                    "using v1: .status.phase")
    assert raised.value.conflicts == [("kwok", ".status.phase")]
