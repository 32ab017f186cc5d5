"""No-op patch detection: a patch that changes nothing is not sent (and one that does, is)."""

from __future__ import annotations

from kwok.kubelet.nochange import json_patch_is_noop, merge_patch_is_noop, strategic_patch_is_noop

POD = {
    "metadata": {"name": "p", "labels": {"a": "1"}},
    "status": {
        "phase": "Running",
        "conditions": [{"type": "Ready", "status": "True"}, {"type": "Initialized", "status": "True"}],
        "containerStatuses": [{"name": "c", "ready": True, "image": "busybox"}],
        "podIPs": [{"ip": "10.0.0.1"}],
    },
}


def test_merge_patch() -> None:
    assert merge_patch_is_noop(POD, {"status": {"phase": "Running"}})
    assert not merge_patch_is_noop(POD, {"status": {"phase": "Succeeded"}})
    assert not merge_patch_is_noop(POD, {"metadata": {"labels": {"a": None}}})
    assert merge_patch_is_noop(POD, {"metadata": {"labels": {"gone": None}}})
    # merge patches replace lists whole
    assert not merge_patch_is_noop(POD, {"status": {"conditions": [{"type": "Ready", "status": "True"}]}})


def test_strategic_patch_merges_keyed_lists_and_replaces_atomic_ones() -> None:
    same_condition = {"status": {"conditions": [{"type": "Ready", "status": "True"}]}}
    assert strategic_patch_is_noop(POD, same_condition, "", "v1", "Pod")
    flipped = {"status": {"conditions": [{"type": "Ready", "status": "False"}]}}
    assert not strategic_patch_is_noop(POD, flipped, "", "v1", "Pod")
    # containerStatuses is atomic: a patch with fewer fields replaces the item
    partial = {"status": {"containerStatuses": [{"name": "c", "ready": True}]}}
    assert not strategic_patch_is_noop(POD, partial, "", "v1", "Pod")
    assert strategic_patch_is_noop(POD, {"status": {"podIPs": [{"ip": "10.0.0.1"}]}}, "", "v1", "Pod")
    assert not strategic_patch_is_noop(POD, {"status": {"$patch": "replace"}}, "", "v1", "Pod")


def test_json_patch() -> None:
    assert json_patch_is_noop(POD, [{"op": "replace", "path": "/status/phase", "value": "Running"}])
    assert not json_patch_is_noop(POD, [{"op": "add", "path": "/metadata/finalizers", "value": ["x"]}])
    assert not json_patch_is_noop(POD, [{"op": "remove", "path": "/metadata/nothing"}])
