"""managedFields as the server records them for writes through the main resource and its status."""

from __future__ import annotations

import uuid

from tests.apiserver.harness import ApiServer

PODS = "/api/v1/namespaces/default/pods"


def _entries(obj: dict) -> dict[tuple[str, str, str], dict]:
    return {(e["manager"], e["operation"], e.get("subresource", "")): e["fieldsV1"]
            for e in obj["metadata"]["managedFields"]}


def _pod(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": "x"}},
            "spec": {"containers": [{"name": "c", "image": "busybox"}]},
            "status": {"phase": "Running", "podIP": "10.0.0.9"}}


def test_the_creator_owns_its_spec_not_the_status_the_server_fills_in(apiserver: ApiServer) -> None:
    name = f"own-{uuid.uuid4().hex[:6]}"
    code, created, _ = apiserver.request("POST", f"{PODS}?fieldManager=creator", _pod(name))
    assert code == 201, created
    assert created["status"]["phase"] == "Pending"            # status in a create is reset by the server
    owned = _entries(created)[("creator", "Update", "")]
    assert "f:status" not in owned and "f:containers" in owned["f:spec"]
    status = {"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}}
    code, running, _ = apiserver.request("PATCH", f"{PODS}/{name}/status?fieldManager=kwok", status,
                                         "application/strategic-merge-patch+json")
    assert code == 200, running
    entries = _entries(running)
    assert entries[("creator", "Update", "")] == owned                 # untouched by the status write
    assert entries[("kwok", "Update", "status")]["f:status"]["f:phase"] == {}
    assert 'k:{"type":"Ready"}' in entries[("kwok", "Update", "status")]["f:status"]["f:conditions"]


def test_an_update_of_fields_a_manager_owns_keeps_its_set_and_moves_its_time(apiserver: ApiServer) -> None:
    name = f"again-{uuid.uuid4().hex[:6]}"
    assert apiserver.request("POST", PODS, _pod(name))[0] == 201
    patch = "application/merge-patch+json"
    first = apiserver.request("PATCH", f"{PODS}/{name}/status?fieldManager=kwok", {"status": {"podIP": "10.0.0.1"}},
                              patch)[1]
    second = apiserver.request("PATCH", f"{PODS}/{name}/status?fieldManager=kwok", {"status": {"podIP": "10.0.0.2"}},
                               patch)[1]
    assert second["status"]["podIP"] == "10.0.0.2"
    assert _entries(second)[("kwok", "Update", "status")] == _entries(first)[("kwok", "Update", "status")]
    other = apiserver.request("PATCH", f"{PODS}/{name}/status?fieldManager=other", {"status": {"podIP": "10.0.0.3"}},
                              patch)[1]
    entries = _entries(other)
    assert entries[("other", "Update", "status")] == {"f:status": {"f:podIP": {}}}
    assert "f:podIP" not in entries.get(("kwok", "Update", "status"), {}).get("f:status", {})


def test_apply_to_the_status_subresource_is_recorded_for_it(apiserver: ApiServer) -> None:
    name = f"ap-{uuid.uuid4().hex[:6]}"
    assert apiserver.request("POST", PODS, _pod(name))[0] == 201
    config = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "status": {"phase": "Running"}}
    code, applied, _ = apiserver.request("PATCH", f"{PODS}/{name}/status?fieldManager=kubelet&force=true",
                                         config, "application/apply-patch+yaml")
    assert code == 200, applied
    assert applied["status"]["phase"] == "Running"
    assert _entries(applied)[("kubelet", "Apply", "status")] == {"f:status": {"f:phase": {}}}
