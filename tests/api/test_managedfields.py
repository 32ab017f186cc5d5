"""Field sets, FieldsV1 and the Update bookkeeping of metadata.managedFields."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kwok.api import managedfields as mf
from kwok.api.managedfields import (
    DEDUCED,
    DEDUCED_TYPES,
    Type,
    decode_fields,
    encode_fields,
    field_set,
    path_string,
    update_managed_fields,
)

T0, T1, T2 = "2026-11-27T10:00:00Z", "2026-11-27T10:05:00Z", "2026-11-27T10:09:00Z"


def deployment(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]}}, **spec},
    }


def entries(obj: dict[str, Any]) -> list[tuple[str, str, str, str | None]]:
    return [(e["manager"], e["operation"], e.get("subresource", ""), e.get("time"))
            for e in obj["metadata"].get("managedFields", [])]


def fields_of(obj: dict[str, Any], manager: str) -> dict[str, Any]:
    return next(e["fieldsV1"] for e in obj["metadata"]["managedFields"] if e["manager"] == manager)


# --- FieldsV1 encoding ------------------------------------------------------------------------------


def test_fields_v1_round_trip_and_order() -> None:
    wire = {"f:spec": {"f:containers": {'k:{"name":"b"}': {".": {}, "f:image": {}},
                                        'k:{"name":"a"}': {}}},
            "f:metadata": {"f:labels": {"f:z": {}, ".": {}, "f:a": {}}}}
    encoded = encode_fields(decode_fields(wire))
    assert encoded == wire
    assert list(encoded) == ["f:metadata", "f:spec"]
    assert list(encoded["f:metadata"]["f:labels"]) == [".", "f:a", "f:z"]
    assert list(encoded["f:spec"]["f:containers"]) == ['k:{"name":"a"}', 'k:{"name":"b"}']
    # a member without children is written as an empty leaf
    assert encode_fields(decode_fields({"f:a": {".": {}}})) == {"f:a": {}}


def test_set_algebra() -> None:
    a = decode_fields({"f:spec": {"f:replicas": {}, "f:paused": {}}, "f:data": {".": {}, "f:x": {}}})
    b = decode_fields({"f:spec": {"f:replicas": {}}, "f:data": {"f:x": {}}})
    assert encode_fields(mf.difference(a, b)) == {"f:spec": {"f:paused": {}}, "f:data": {}}
    assert encode_fields(mf.intersection(a, b)) == {"f:spec": {"f:replicas": {}}, "f:data": {"f:x": {}}}
    assert mf.union(b, a) == mf.union(a, b)
    assert mf.difference(a, a) == {}


@pytest.mark.parametrize(
    ("path", "text"),
    [(("f:spec", "f:replicas"), ".spec.replicas"),
     (("f:spec", "f:containers", 'k:{"name":"nginx"}', "f:image"), '.spec.containers[name="nginx"].image'),
     (("f:ports", 'k:{"containerPort":80,"protocol":"TCP"}'), '.ports[containerPort=80,protocol="TCP"]'),
     (("f:metadata", "f:finalizers", 'v:"a/b"'), '.metadata.finalizers[="a/b"]'),
     (("f:items", "i:2"), ".items[2]")],
)
def test_path_strings_match_structured_merge_diff(path: tuple[str, ...], text: str) -> None:
    assert path_string(path) == text


# --- field sets from the schema ------------------------------------------------------------------


def test_field_set_of_an_applied_deployment_uses_list_keys_and_atomic_selector() -> None:
    obj = deployment()
    obj["spec"]["template"]["spec"]["containers"][0]["ports"] = [{"containerPort": 80, "protocol": "TCP"}]
    obj["metadata"]["finalizers"] = ["example.com/keep"]
    root, types = mf.resolver_for("apps/v1", "Deployment")
    fields = encode_fields(mf.strip_meta(field_set(obj, root, types)))
    assert fields == {
        "f:metadata": {"f:finalizers": {'v:"example.com/keep"': {}}, "f:labels": {"f:app": {}}},
        "f:spec": {"f:replicas": {}, "f:selector": {}, "f:template": {
            "f:metadata": {"f:labels": {"f:app": {}}},
            "f:spec": {"f:containers": {'k:{"name":"nginx"}': {
                ".": {}, "f:image": {}, "f:name": {},
                "f:ports": {'k:{"containerPort":80,"protocol":"TCP"}': {
                    ".": {}, "f:containerPort": {}, "f:protocol": {}}}}}}}}}


def test_deduced_types_make_lists_atomic_and_objects_members() -> None:
    widget = {"spec": {"size": 2, "tags": ["a", "b"], "empty": {}}}
    assert encode_fields(field_set(widget, DEDUCED, DEDUCED_TYPES)) == {
        "f:spec": {".": {}, "f:empty": {}, "f:size": {}, "f:tags": {}}}


def test_injected_resolver_is_used() -> None:
    class Keyed:
        def root(self, api_version: str, kind: str) -> Type:
            return Type("struct", message="Root")

        def field(self, parent: Type, name: str) -> tuple[Type, bool]:
            if name == "items":
                return Type("list", "map", element=Type("struct", message="Item"), keys=("id",)), True
            return mf.SCALAR, True

    fields = field_set({"items": [{"id": 1, "v": "x"}]}, Type("struct", message="Root"), Keyed())
    assert encode_fields(fields) == {"f:items": {'k:{"id":1}': {".": {}, "f:id": {}, "f:v": {}}}}


# --- Update operations ----------------------------------------------------------------------------


def test_create_records_what_the_creator_set() -> None:
    created = update_managed_fields(None, deployment(), "kubectl-create", "Update", "apps/v1", T0)
    assert created["metadata"]["managedFields"] == [{
        "manager": "kubectl-create", "operation": "Update", "apiVersion": "apps/v1", "time": T0,
        "fieldsType": "FieldsV1",
        "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:app": {}}},
                     "f:spec": {"f:replicas": {}, "f:selector": {}, "f:template": {
                         "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
                         "f:spec": {"f:containers": {'k:{"name":"nginx"}': {".": {}, "f:image": {}, "f:name": {}}}}}}},
    }]
    assert created["spec"] == deployment()["spec"]


def test_create_of_a_custom_resource_owns_its_objects() -> None:
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"size": 1}}
    created = update_managed_fields(None, widget, "kubectl-create", "Update", "example.com/v1", T0)
    assert fields_of(created, "kubectl-create") == {"f:spec": {".": {}, "f:size": {}}}


def test_a_second_manager_takes_the_fields_it_changes() -> None:
    created = update_managed_fields(None, deployment(), "kubectl-create", "Update", "apps/v1", T0)
    scaled = copy.deepcopy(created)
    scaled["spec"]["replicas"] = 3
    after = update_managed_fields(created, scaled, "kube-controller-manager", "Update", "apps/v1", T1,
                                  subresource="scale")
    assert entries(after) == [("kubectl-create", "Update", "", T0),
                              ("kube-controller-manager", "Update", "scale", T1)]
    assert fields_of(after, "kube-controller-manager") == {"f:spec": {"f:replicas": {}}}
    assert "f:replicas" not in fields_of(after, "kubectl-create")["f:spec"]
    assert after["metadata"]["managedFields"][1]["subresource"] == "scale"


def test_removed_fields_leave_every_owner_and_empty_entries_vanish() -> None:
    created = update_managed_fields(None, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
                                           "data": {"a": "1"}}, "creator", "Update", "v1", T0)
    labelled = copy.deepcopy(created)
    labelled["metadata"]["labels"] = {"team": "x"}
    labelled = update_managed_fields(created, labelled, "kubectl-label", "Update", "v1", T1)
    emptied = copy.deepcopy(labelled)
    del emptied["data"]
    emptied = update_managed_fields(labelled, emptied, "kubectl-edit", "Update", "v1", T2)
    assert [e[0] for e in entries(emptied)] == ["kubectl-label"]


def test_a_write_that_changes_nothing_keeps_times_and_adds_no_entry() -> None:
    created = update_managed_fields(None, deployment(), "kubectl-create", "Update", "apps/v1", T0)
    same = copy.deepcopy(created)
    same["metadata"]["resourceVersion"] = "99"
    after = update_managed_fields(created, same, "kubectl-replace", "Update", "apps/v1", T1)
    assert entries(after) == [("kubectl-create", "Update", "", T0)]


def test_same_manager_accumulates_and_refreshes_its_time() -> None:
    created = update_managed_fields(None, deployment(), "m", "Update", "apps/v1", T0)
    changed = copy.deepcopy(created)
    changed["spec"]["paused"] = True
    after = update_managed_fields(created, changed, "m", "Update", "apps/v1", T1)
    assert entries(after) == [("m", "Update", "", T1)]
    assert "f:paused" in fields_of(after, "m")["f:spec"] and "f:replicas" in fields_of(after, "m")["f:spec"]


def test_update_entries_differ_by_api_version() -> None:
    created = update_managed_fields(None, deployment(), "m", "Update", "apps/v1", T0)
    changed = copy.deepcopy(created)
    changed["spec"]["paused"] = True
    after = update_managed_fields(created, changed, "m", "Update", "apps/v1beta2", T1)
    assert [(e["manager"], e["apiVersion"]) for e in after["metadata"]["managedFields"]] == [
        ("m", "apps/v1"), ("m", "apps/v1beta2")]


def test_untracked_objects_stay_untracked_on_update_and_reset_clears() -> None:
    plain = deployment()
    changed = deployment(paused=True)
    assert "managedFields" not in update_managed_fields(plain, changed, "m", "Update", "apps/v1", T1)["metadata"]
    created = update_managed_fields(None, deployment(), "m", "Update", "apps/v1", T0)
    reset = copy.deepcopy(created)
    reset["metadata"]["managedFields"] = []
    assert "managedFields" not in update_managed_fields(created, reset, "m", "Update", "apps/v1", T1)["metadata"]


def test_managed_fields_sent_in_the_body_replace_the_live_ones() -> None:
    created = update_managed_fields(None, deployment(), "m", "Update", "apps/v1", T0)
    edited = copy.deepcopy(created)
    edited["metadata"]["managedFields"] = [{"manager": "someone", "operation": "Update", "apiVersion": "apps/v1",
                                            "time": T0, "fieldsType": "FieldsV1",
                                            "fieldsV1": {"f:spec": {"f:replicas": {}}}}]
    after = update_managed_fields(created, edited, "m", "Update", "apps/v1", T1)
    assert [e[0] for e in entries(after)] == ["someone"]


def test_status_updates_record_the_subresource() -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
           "spec": {"containers": [{"name": "c", "image": "x"}]}}
    created = update_managed_fields(None, pod, "kubectl-run", "Update", "v1", T0)
    running = copy.deepcopy(created)
    running["status"] = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
    after = update_managed_fields(created, running, "kwok", "Update", "v1", T1, subresource="status")
    assert fields_of(after, "kwok") == {"f:status": {".": {}, "f:conditions": {
        ".": {}, 'k:{"type":"Ready"}': {".": {}, "f:status": {}, "f:type": {}}}, "f:phase": {}}}


def test_more_than_ten_update_managers_fold_the_oldest_into_ancient_changes() -> None:
    obj = update_managed_fields(None, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
                                       "data": {"k0": "v"}}, "m00", "Update", "v1", "2026-11-27T10:00:00Z")
    for i in range(1, 12):
        changed = copy.deepcopy(obj)
        changed["data"][f"k{i}"] = "v"
        obj = update_managed_fields(obj, changed, f"m{i:02d}", "Update", "v1", f"2026-11-27T10:{i:02d}:00Z")
    names = [e[0] for e in entries(obj)]
    assert len(names) == 10
    assert names[0] == "ancient-changes" and "m00" not in names and "m01" not in names and "m02" not in names
    assert fields_of(obj, "ancient-changes") == {"f:data": {".": {}, "f:k0": {}, "f:k1": {}, "f:k2": {}}}
    assert entries(obj)[0][3] == "2026-11-27T10:02:00Z"


def test_ignored_fields_are_not_recorded() -> None:
    created = update_managed_fields(None, deployment(), "m", "Update", "apps/v1", T0)
    changed = copy.deepcopy(created)
    changed["status"] = {"replicas": 1}
    changed["spec"]["paused"] = True
    after = update_managed_fields(created, changed, "editor", "Update", "apps/v1", T1, ignored=[("status",)])
    assert fields_of(after, "editor") == {"f:spec": {"f:paused": {}}}


def test_keyed_items_are_ordered_by_value_not_by_text() -> None:
    wire = {'k:{"port":8080}': {}, 'k:{"port":443}': {}, 'k:{"port":80}': {}}
    assert list(encode_fields(decode_fields(wire))) == ['k:{"port":80}', 'k:{"port":443}', 'k:{"port":8080}']
    values = {'v:"b"': {}, "v:10": {}, 'v:"a"': {}, "v:9": {}}
    assert list(encode_fields(decode_fields(values))) == ["v:9", "v:10", 'v:"a"', 'v:"b"']


def test_create_marks_pointer_structs_and_defaulted_empty_ones_like_kubectl_create() -> None:
    obj = deployment(strategy={"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%"}})
    obj["spec"]["template"]["spec"]["securityContext"] = {}
    obj["status"] = {}
    created = update_managed_fields(None, obj, "kubectl-create", "Update", "apps/v1", T0)
    spec = fields_of(created, "kubectl-create")["f:spec"]
    assert spec["f:strategy"] == {"f:rollingUpdate": {".": {}, "f:maxSurge": {}}, "f:type": {}}
    assert spec["f:template"]["f:spec"]["f:securityContext"] == {}
    assert "." not in spec["f:template"]["f:spec"]["f:containers"]
    assert "f:status" not in fields_of(created, "kubectl-create")


def test_objects_made_from_one_template_get_the_ownership_each_would_alone() -> None:
    """Creates of objects that differ only in metadata share one comparison of the rest."""
    made = []
    for name, labels in (("a", {"app": "web"}), ("b", {"app": "web", "extra": "1"})):
        obj = deployment()
        obj["metadata"] = {"name": name, "labels": labels}
        made.append(update_managed_fields(None, copy.deepcopy(obj), "rs", "Update", "apps/v1", T0))
        # the explicit resolver takes the path that remembers nothing
        alone = update_managed_fields(None, obj, "rs", "Update", "apps/v1", T0, resolver=mf.schema_types())
        assert made[-1]["metadata"]["managedFields"] == alone["metadata"]["managedFields"]
    assert fields_of(made[1], "rs")["f:metadata"]["f:labels"] == {".": {}, "f:app": {}, "f:extra": {}}
    assert fields_of(made[0], "rs")["f:spec"] == fields_of(made[1], "rs")["f:spec"]
    changed = copy.deepcopy(made[0])
    changed["spec"]["replicas"] = 3
    again = update_managed_fields(None, changed, "rs", "Update", "apps/v1", T0)
    assert again["metadata"]["managedFields"] == update_managed_fields(
        None, changed, "rs", "Update", "apps/v1", T0, resolver=mf.schema_types())["metadata"]["managedFields"]


def test_a_manager_updating_only_its_own_fields_keeps_its_set() -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
           "spec": {"containers": [{"name": "c", "image": "x"}]}}
    created = update_managed_fields(None, pod, "creator", "Update", "v1", T0)
    running = copy.deepcopy(created)
    running["status"] = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True",
                                                             "lastHeartbeatTime": T1}]}
    first = update_managed_fields(created, running, "kwok", "Update", "v1", T1, subresource="status")
    beat = copy.deepcopy(first)
    beat["status"]["conditions"][0]["lastHeartbeatTime"] = T2
    second = update_managed_fields(first, beat, "kwok", "Update", "v1", T2, subresource="status")
    assert fields_of(second, "kwok") == fields_of(first, "kwok")
    assert ("kwok", "Update", "status", T2) in entries(second)
    assert fields_of(second, "creator") == fields_of(created, "creator")
    # another manager changing one of those fields takes just that one
    taken = copy.deepcopy(second)
    taken["status"]["phase"] = "Failed"
    third = update_managed_fields(second, taken, "other", "Update", "v1", T2, subresource="status")
    assert "f:phase" not in fields_of(third, "kwok")["f:status"]
    assert fields_of(third, "other") == {"f:status": {"f:phase": {}}}
