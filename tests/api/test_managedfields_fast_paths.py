"""The fast paths of managedFields bookkeeping give byte for byte what the general algorithm gives.

`managedfields.FAST_PATHS` / `fieldpaths.FAST_PATHS` off is the general algorithm (a create
compared with its kind's zero object, one path grafted at a time, nothing remembered); on, a
create is walked straight into FieldsV1 and compares remember elements, leaf sets and encodings.
Each case runs the same write both ways, on realistic objects and on many seeded variations of
them (keyed lists with duplicate or missing keys, set lists, atomic fields, nulls, empty maps and
lists, labels and annotations, values changing shape), twice with the fast paths so that the
second run reads what the first remembered.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from kwok.api import fieldpaths
from kwok.api import managedfields as mf
from kwok.api.managedfields import OpenAPITypes, update_managed_fields

Obj = dict[str, Any]
T0, T1 = "2026-11-27T10:00:00Z", "2026-11-27T10:05:00Z"


def node(i: int) -> Obj:
    name = f"node-{i}"
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "uid": f"uid-{i}", "creationTimestamp": T0,
                         "labels": {"kubernetes.io/hostname": name, "type": "kwok", "role": ""},
                         "annotations": {"node.alpha.kubernetes.io/ttl": "0"}},
            "spec": {"podCIDR": f"10.0.{i}.0/24", "podCIDRs": [f"10.0.{i}.0/24", f"fd00::{i}/64"],
                     "taints": [{"key": "kwok.x-k8s.io/node", "value": "fake", "effect": "NoSchedule"}]},
            "status": {"addresses": [{"address": f"192.0.2.{i}", "type": "InternalIP"}],
                       "allocatable": {"cpu": "32", "pods": "110"}, "capacity": {"cpu": "32", "pods": "110"},
                       "nodeInfo": {"architecture": "amd64", "operatingSystem": "linux"}}}


def pod(i: int) -> Obj:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": f"web-{i}", "namespace": "default", "generateName": "web-", "uid": f"p-{i}",
                         "labels": {"app": "web", "pod-template-hash": "abc"},
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web",
                                              "uid": "rs-1", "controller": True, "blockOwnerDeletion": True}],
                         "finalizers": ["example.com/a", "example.com/b"]},
            "spec": {"containers": [{"name": "c", "image": "nginx", "resources": {"requests": {"cpu": "1"}},
                                     "ports": [{"containerPort": 80}, {"containerPort": 53, "protocol": "UDP"}],
                                     "env": [{"name": "A", "value": "1"}]}],
                     "initContainers": [], "nodeName": f"node-{i % 3}", "securityContext": {},
                     "tolerations": [{"key": "a", "operator": "Exists"}], "dnsPolicy": "ClusterFirst",
                     "volumes": [{"name": "v", "emptyDir": {}}], "hostNetwork": False, "priority": 0},
            "status": {"phase": "Pending", "qosClass": "BestEffort"}}


def running(obj: Obj, i: int) -> Obj:
    result = copy.deepcopy(obj)
    result["status"].update({
        "phase": "Running", "podIP": f"10.0.0.{i}", "podIPs": [{"ip": f"10.0.0.{i}"}, {"ip": f"fd00::{i}"}],
        "conditions": [{"type": kind, "status": "True", "lastTransitionTime": T1, "lastProbeTime": None}
                       for kind in ("Initialized", "Ready", "ContainersReady")],
        "containerStatuses": [{"name": "c", "ready": True, "restartCount": 0, "state": {"running": {}}}]})
    return result


def deployment(i: int) -> Obj:
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": f"d-{i}", "namespace": "default", "labels": {"app": "web"}},
            "spec": {"replicas": i, "selector": {"matchLabels": {"app": "web"}},
                     "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]}}}}


def lease(i: int) -> Obj:
    return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": f"node-{i}", "namespace": "kube-node-lease",
                         "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": f"node-{i}",
                                              "uid": f"uid-{i}"}]},
            "spec": {"holderIdentity": f"node-{i}", "leaseDurationSeconds": 40, "renewTime": T0}}


def configmap(i: int) -> Obj:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm-{i}", "annotations": {}},
            "data": {"a": str(i), "b": ""}, "binaryData": None}


def widget(i: int) -> Obj:
    return {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": f"w-{i}"},
            "spec": {"size": i, "tags": ["a", "b"], "ports": [{"port": 80, "name": "http"}],
                     "labels": {"x": "1"}, "free": {"nested": {"deep": [1, 2]}}, "empty": {}}}


SEEDS = [node, pod, deployment, lease, configmap, widget]

WIDGET_SCHEMA = {"type": "object", "properties": {
    "apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"},
    "spec": {"type": "object", "properties": {
        "size": {"type": "integer"},
        "tags": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set"},
        "ports": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["port"],
                  "items": {"type": "object", "properties": {"port": {"type": "integer"},
                                                             "name": {"type": "string"}}}},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        "empty": {"type": "object", "x-kubernetes-map-type": "atomic"}}},
    "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}

REPLACEMENTS: list[Any] = [
    None, {}, [], "", "x", 0, 1, 1.0, 2.5, True, False, 2 ** 70, {"a": 1}, {"a": {"b": None}}, [1, 2], ["x", "x"],
    [{"name": "a"}, {"name": "a", "image": "dup"}], [{"name": "b", "image": "i"}, {"image": "no-key"}],
    [{"type": "Ready", "status": "True"}], [{"containerPort": 8080}, {"containerPort": 8080, "protocol": "TCP"}],
    [{"ip": None}], {"requests": {"cpu": "1"}, "limits": None}, [[1], [1]], [{"b": 1, "a": 2}],
    ["v", 1, None, True, {"k": 1}],
]


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, (*path, index))


def mutate(obj: Obj, rng: random.Random, count: int, keep: tuple[str, ...] = ()) -> Obj:
    """`obj` with `count` random changes (not below the top-level fields in `keep`)."""
    result = copy.deepcopy(obj)
    for _ in range(count):
        paths = [p for p in _paths(result) if len(p) > 1 and p[0] not in keep and p[:2] != ("metadata", "managedFields")]
        path = rng.choice(paths)
        parent = result
        for element in path[:-1]:
            parent = parent[element]
        last = path[-1]
        action = rng.random()
        if action < 0.2 and isinstance(parent, dict):
            del parent[last]
        elif action < 0.35 and isinstance(parent, list):
            parent.insert(rng.randrange(len(parent) + 1), copy.deepcopy(parent[last]))
        elif action < 0.5 and isinstance(parent, dict):
            parent[rng.choice(["new", "extra", "type", "name", "labels", "ports"])] = \
                copy.deepcopy(rng.choice(REPLACEMENTS))
        else:
            parent[last] = copy.deepcopy(rng.choice(REPLACEMENTS))
    return result


def record(old: Obj | None, new: Obj, fast: bool, subresource: str = "", ignored: Any = (),
           resolver: Any = None, manager: str = "m", now: str = T0) -> bytes | str:
    """The written object as clients read it (or the error raised), with fast paths on or off."""
    mf.FAST_PATHS = fieldpaths.FAST_PATHS = fast
    try:
        api_version = new.get("apiVersion", "v1") if isinstance(new.get("apiVersion"), str) else "v1"
        result = update_managed_fields(old, new, manager, "Update", api_version, now, subresource,
                                       resolver=resolver, ignored=ignored)
        return orjson.dumps(result)
    except Exception as error:  # noqa: BLE001 - both paths must fail alike
        return f"{type(error).__name__}: {error}"
    finally:
        mf.FAST_PATHS = fieldpaths.FAST_PATHS = True


def assert_same(old: Obj | None, new: Obj, **options: Any) -> bytes | str:
    general = record(old, new, False, **options)
    assert record(old, new, True, **options) == general
    assert record(old, new, True, **options) == general   # with what the first run remembered
    return general


RESETS = [(), (("status",),), (("spec",),), (("spec", "replicas"),), (("metadata",),)]


def _resolver(obj: Obj) -> Any:
    return OpenAPITypes(WIDGET_SCHEMA) if obj.get("kind") == "Widget" else None


@pytest.fixture(autouse=True)
def _cold() -> Iterator[None]:
    mf.forget_remembered()
    yield
    mf.FAST_PATHS = fieldpaths.FAST_PATHS = True


@pytest.mark.parametrize("make", SEEDS, ids=lambda make: make.__name__)
def test_creates_of_template_objects_match_the_general_algorithm(make: Any) -> None:
    for i in range(6):
        obj = make(i)
        for ignored in RESETS:
            written = assert_same(None, obj, ignored=ignored, resolver=_resolver(obj))
            assert isinstance(written, bytes)
            assert b"managedFields" in written or ignored     # (a create may set nothing else)


@pytest.mark.parametrize("seed", range(24))
def test_creates_of_varied_objects_match_the_general_algorithm(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(60):
        make = rng.choice(SEEDS)
        obj = mutate(make(rng.randrange(4)), rng, rng.randint(1, 4))
        assert_same(None, obj, ignored=rng.choice(RESETS), resolver=_resolver(obj))


@pytest.mark.parametrize("seed", range(24))
def test_updates_of_varied_objects_match_the_general_algorithm(seed: int) -> None:
    rng = random.Random(1000 + seed)
    for _ in range(50):
        make = rng.choice(SEEDS)
        base = make(rng.randrange(4))
        resolver = _resolver(base)
        created = record(None, base, False, ignored=(("status",),), resolver=resolver, manager="creator")
        assert isinstance(created, bytes)
        old = orjson.loads(created)
        if rng.random() < 0.3:   # a second manager owns some fields already
            other = mutate(old, rng, 2)
            written = record(old, other, False, resolver=resolver, manager="other")
            if isinstance(written, bytes):
                old = orjson.loads(written)
        new = mutate(old, rng, rng.randint(1, 5))
        subresource, ignored = rng.choice([("", (("status",),)), ("status", (("spec",),)), ("", ())])
        assert_same(old, new, subresource=subresource, ignored=ignored, resolver=resolver,
                    manager=rng.choice(["creator", "other", "kubelet"]), now=T1)


def test_status_patches_and_renewals_match_the_general_algorithm() -> None:
    for i in range(5):
        created = orjson.loads(record(None, pod(i), False, ignored=(("status",),)))
        assert_same(created, running(created, i), subresource="status", ignored=(("spec",),), now=T1)
        held = orjson.loads(record(None, lease(i), False))
        renewed = copy.deepcopy(held)
        renewed["spec"]["renewTime"] = T1
        assert_same(held, renewed, now=T1)


def test_a_create_records_what_kwok_nodes_and_pods_show() -> None:
    """The fast create gives the FieldsV1 a real API server records for kwokctl's objects."""
    written = orjson.loads(record(None, node(7), True, ignored=(("status",),)))
    assert written["metadata"]["managedFields"][0]["fieldsV1"] == {
        "f:metadata": {"f:annotations": {".": {}, "f:node.alpha.kubernetes.io/ttl": {}},
                       "f:labels": {".": {}, "f:kubernetes.io/hostname": {}, "f:role": {}, "f:type": {}}},
        "f:spec": {"f:podCIDR": {}, "f:podCIDRs": {".": {}, 'v:"10.0.7.0/24"': {}, 'v:"fd00::7/64"': {}},
                   "f:taints": {}}}
    spec = orjson.loads(record(None, pod(1), True, ignored=(("status",),)))["metadata"]["managedFields"][0]
    assert spec["fieldsV1"]["f:spec"]["f:containers"] == {'k:{"name":"c"}': {
        ".": {}, "f:env": {".": {}, 'k:{"name":"A"}': {".": {}, "f:name": {}, "f:value": {}}}, "f:image": {},
        "f:name": {}, "f:ports": {".": {}, 'k:{"containerPort":53,"protocol":"UDP"}': {
            ".": {}, "f:containerPort": {}, "f:protocol": {}}, 'k:{"containerPort":80,"protocol":"TCP"}': {
            ".": {}, "f:containerPort": {}}}, "f:resources": {".": {}, "f:requests": {".": {}, "f:cpu": {}}}}}


def test_remembered_list_keys_tell_equal_values_of_other_types_apart() -> None:
    """80, 80.0 and True are one dict key in Python but three list keys in FieldsV1."""
    written = []
    for port in (80, 80.0, 1, True, "80", None):
        obj = pod(0)
        obj["spec"]["containers"][0]["ports"] = [{"containerPort": port}]
        written.append(assert_same(None, obj, ignored=(("status",),)))
    assert len(set(written)) == len(written)
    assert b'k:{\\"containerPort\\":80.0,\\"protocol\\":\\"TCP\\"}' in written[1]
