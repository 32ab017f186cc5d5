"""Compiled stage templates (tplcompile) against the text path (gotpl, then YAML), object by object.

Every patch template of our stage sets and of upstream's is run over generated objects: missing
fields, empty lists, dual-stack, init and sidecar containers, hostNetwork, deletionTimestamp,
numbers, and strings YAML would read as something else. Wherever the compiled template answers
(it may hand an object back to the text path), its value must be the text path's exactly: same
types, same key order.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import pathlib
import random
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from kwok.engine import StageSet, default_stages
from kwok.engine.config import load_documents
from kwok.engine.gotemplate import GoTemplate
from kwok.engine.stage import Stage
from kwok.engine.steps import Patch, StepError, render_yaml
from kwok.engine.templatefuncs import environment_funcs, function_map_for, stub_funcs
from kwok.engine.tplcompile import Fallback, compile_template
from tests.conftest import SHARED_DIR

UPSTREAM = pathlib.Path(SHARED_DIR + "/upstream/kwok/kustomize/stage")
NOW = dt.datetime(2026, 11, 27, 23, 59, 58, 123456, tzinfo=dt.UTC)

# Strings YAML reads as another type, or that need quoting, escaping or line folding.
WEIRD = [
    "yes", "No", "on", "1e3", "1.5", "null", "~", "0x1F", "010", "1_000", ".inf", "-", "- x",
    "true", "", " lead", "trail ", "a: b", "x #y", "#c", "'q'", '"dq"', "it's", "multi\nline",
    "tab\there", "é ü 日本", "nel\x85", "ls\u2028", "bom\ufeff", "del\x7f", "<&>", "back\\slash",
    "{a}", "[b]", "*ref", "&anc", "!tag", "%pct", "@at", "`bt`", "2006-01-02", "1:30", "=",
    "very-long-" + "x" * 120, "\x00nul", "cr\rx",
]  # fmt: skip
NAMES = ["web", "sidecar", "init-db", "c-1"]


def _pick(rng: random.Random, weird: float = 0.3) -> str:
    return rng.choice(WEIRD) if rng.random() < weird else rng.choice(NAMES)


def _maybe(rng: random.Random, value: Any, p: float = 0.5) -> Any:
    return value if rng.random() < p else None


def _compact(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def _container(rng: random.Random, init: bool = False) -> dict[str, Any]:
    c = _compact(
        {
            "name": _maybe(rng, _pick(rng), 0.95),
            "image": _maybe(rng, _pick(rng), 0.9),
            "restartPolicy": _maybe(rng, "Always", 0.4) if init else None,
            "resources": _maybe(rng, {"requests": {"cpu": rng.choice(["100m", 1, 0.5, "1e3"])}}, 0.3),
            "ports": _maybe(rng, [{"containerPort": rng.choice([80, 8080])}], 0.3),
        }
    )
    return c


def pod(rng: random.Random) -> dict[str, Any]:
    meta = _compact(
        {
            "name": _maybe(rng, _pick(rng, 0.2), 0.9),
            "namespace": _maybe(rng, rng.choice(["default", "kube-system", "yes"]), 0.9),
            "uid": _maybe(rng, f"uid-{rng.randrange(1000)}", 0.8),
            "creationTimestamp": _maybe(rng, "2026-01-01T00:00:00Z"),
            "deletionTimestamp": _maybe(rng, "2026-01-02T00:00:00Z", 0.15),
            "labels": _maybe(rng, {"app": _pick(rng)}),
            "annotations": _maybe(rng, _chaos_annotations(rng), 0.4),
            "ownerReferences": _maybe(rng, [{"kind": rng.choice(["Job", "ReplicaSet"]), "name": "o"}], 0.4),
            "finalizers": _maybe(rng, ["kwok.x-k8s.io/fake"], 0.2),
        }
    )
    spec = _compact(
        {
            "nodeName": _maybe(rng, rng.choice(["node-0", "kwok-node-1", "yes", ""]), 0.9),
            "containers": [_container(rng) for _ in range(rng.choice([0, 1, 1, 2, 3]))],
            "initContainers": _maybe(rng, [_container(rng, True) for _ in range(rng.choice([0, 1, 2]))]),
            "readinessGates": _maybe(rng, [{"conditionType": _pick(rng)}], 0.2),
            "hostNetwork": _maybe(rng, rng.choice([True, False]), 0.3),
            "priority": _maybe(rng, rng.choice([0, 1000, 1.5, -1]), 0.3),
        }
    )
    status = _maybe(
        rng,
        _compact(
            {
                "phase": rng.choice(["Pending", "Running", "Succeeded"]),
                "conditions": _maybe(rng, [{"type": "Ready", "status": rng.choice(["True", "False"])}]),
                "podIP": _maybe(rng, "10.0.0.7", 0.3),
                "containerStatuses": _maybe(rng, [{"name": "web", "restartCount": 1}], 0.3),
            }
        ),
        0.7,
    )
    return _compact({"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status})


def _chaos_annotations(rng: random.Random) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for prefix in ("node-not-ready", "pod-container-running-failed", "pod-init-container-running-failed"):
        key = f"{prefix}.stage.kwok.x-k8s.io/"
        if rng.random() < 0.5:
            out[key + "reason"] = _pick(rng)
            out[key + "message"] = _pick(rng)
            out[key + "exit-code"] = rng.choice(["2", "137", "yes"])
            out[key + "container-name"] = rng.choice(NAMES)
    return out


def node(rng: random.Random) -> dict[str, Any]:
    addresses = rng.choice(
        [
            None,
            [],
            [{"type": "InternalIP", "address": "10.1.0.1"}],
            [{"type": "InternalIP", "address": "10.1.0.1"}, {"type": "Hostname", "address": _pick(rng)}],
            [
                {"type": "InternalIP", "address": "10.1.0.1"},
                {"type": "InternalIP", "address": "fd00::1"},
                {"type": "Hostname", "address": "n"},
            ],
        ]
    )
    resources = rng.choice(
        [
            None,
            {},
            {"cpu": "32", "memory": "256Gi", "pods": "110"},
            {"cpu": 4, "pods": 1.5, "z": _pick(rng, 1)},
        ]
    )
    info = _maybe(
        rng, _compact({"architecture": _maybe(rng, "arm64"), "kubeletVersion": _maybe(rng, _pick(rng))})
    )
    status = _compact(
        {
            "addresses": addresses,
            "allocatable": resources,
            "capacity": rng.choice([None, resources]),
            "nodeInfo": info,
            "phase": _maybe(rng, "Running"),
            "conditions": _maybe(rng, [{"type": "Ready", "status": "True"}]),
        }
    )
    meta = _compact(
        {
            "name": _maybe(rng, _pick(rng, 0.2), 0.95),
            "creationTimestamp": _maybe(rng, "2026-01-01T00:00:00Z"),
            "annotations": _maybe(rng, _chaos_annotations(rng), 0.4),
        }
    )
    return {"apiVersion": "v1", "kind": "Node", "metadata": meta, "status": status}


def volume(rng: random.Random, kind: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": kind,
        "metadata": _compact({"name": _pick(rng), "namespace": _maybe(rng, "default"), "uid": "u"}),
        "spec": _compact(
            {
                "storageClassName": _maybe(rng, _pick(rng)),
                "volumeName": _maybe(rng, _pick(rng)),
                "accessModes": _maybe(rng, ["ReadWriteOnce"]),
                "resources": _maybe(rng, {"requests": {"storage": rng.choice(["1Gi", 5, "1e3"])}}),
                "reclaimPolicy": _maybe(rng, "Retain"),
                "claimRef": _maybe(rng, {"name": "c", "namespace": "default"}),
            }
        ),
    }


def _upstream_stages() -> list[Stage]:
    stages: list[Stage] = []
    for file in sorted(UPSTREAM.glob("*/*/*.yaml")):
        if file.name != "kustomization.yaml":
            stages.extend(
                Stage.compile(d) for d in load_documents(file.read_text(), str(file)).of_kind("Stage")
            )
    return stages


def _all_stages() -> list[tuple[str, Stage]]:
    ours = [
        ("ours", s)
        for name in ("fast", "general", "chaos", "volume")
        for s in StageSet.load(default_stages([name])).stages
    ]
    lease_less = [
        ("ours", s)
        for s in StageSet.load(default_stages(["fast"], lease=False)).stages
        if s.name == "node-heartbeat"
    ]
    return ours + lease_less + [("upstream", s) for s in _upstream_stages()]


def _patches(stage: Stage) -> Iterator[Patch]:
    for step in stage.steps:
        for patch in (step.patch, step.apply):
            if patch is not None:
                yield patch


STAGES = _all_stages()
PATCHES = [(f"{origin}/{s.name}/{i}", s, p) for origin, s in STAGES for i, p in enumerate(_patches(s))]


def _objects(stage: Stage, count: int) -> list[dict[str, Any]]:
    rng = random.Random(f"{stage.name}/{stage.kind}")
    if stage.kind == "Pod":
        return [pod(rng) for _ in range(count)]
    if stage.kind == "Node":
        return [node(rng) for _ in range(count)]
    return [volume(rng, stage.kind) for _ in range(count)]


def _funcs(rng: random.Random, stub: bool) -> dict[str, Any]:
    funcs: dict[str, Any] = dict(environment_funcs(NOW, NOW, "0.9.0"))
    if stub:
        funcs.update(stub_funcs())
        return funcs
    ips = rng.choice([["10.0.0.2"], ["10.0.0.2", "fd00::2"], []])
    node_name, port = rng.choice(["n1", "", "yes"]), rng.choice([10250, 0])
    funcs.update(
        NodeIP=lambda: "10.1.0.9",
        NodeName=lambda: node_name,
        NodePort=lambda: port,
        PodIP=lambda: ips[0] if ips else "",
        NodeIPWith=lambda *a: "10.1.0.9",
        PodIPWith=lambda *a: ips[0] if ips else "",
        NodeIPsWith=lambda *a: ["10.1.0.9"],
        PodIPsWith=lambda *a: list(ips),
    )
    return funcs


def _text_path(patch: Patch, obj: Any, funcs: dict[str, Any]) -> tuple[str, Any]:
    try:
        return "ok", render_yaml(patch.template, obj, funcs)
    except StepError as err:
        return "error", str(err)


def _same(a: Any, b: Any) -> bool:
    """Equal, with the same types and the same key order."""
    return a == b and orjson.dumps(a) == orjson.dumps(b) and _types(a) == _types(b)


def _types(value: Any) -> Any:
    if isinstance(value, dict):
        return [(k, _types(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [_types(v) for v in value]
    return type(value).__name__


def test_every_template_of_the_stage_sets_compiles() -> None:
    assert len(PATCHES) >= 25
    missing = [name for name, _, patch in PATCHES if patch.compiled is None]
    assert missing == []


@pytest.mark.parametrize(("name", "stage", "patch"), PATCHES, ids=[p[0] for p in PATCHES])
def test_compiled_equals_text_path(name: str, stage: Stage, patch: Patch) -> None:
    assert patch.compiled is not None
    answered = succeeded = 0
    objects = _objects(stage, 40)
    for i, obj in enumerate(objects):
        funcs = _funcs(random.Random(i), stub=i % 3 == 0)
        expected = _text_path(patch, obj, dict(funcs))
        succeeded += expected[0] == "ok"
        try:
            got = patch.compiled.build(obj, dict(funcs))
        except Fallback:
            continue
        answered += 1
        assert expected[0] == "ok", (
            f"{name}: the text path failed ({expected[1]}) where the compiled one answered"
        )
        assert _same(got, expected[1]), f"{name} on {obj}:\n{got}\n!=\n{expected[1]}"
    # Weird strings send some objects the text path; most must not need it.
    assert answered >= succeeded // 2, f"{name}: the compiled template answered {answered} of {succeeded}"


PLAIN_POD: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "web-0", "namespace": "default", "uid": "u1", "ownerReferences": [{"kind": "Job"}]},
    "spec": {
        "nodeName": "node-0",
        "containers": [{"name": "web", "image": "nginx"}, {"name": "log", "image": "busybox"}],
        "initContainers": [
            {"name": "init", "image": "busybox"},
            {"name": "sc", "image": "e", "restartPolicy": "Always"},
        ],
    },
    "status": {"phase": "Pending"},
}
PLAIN_NODE: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Node",
    "metadata": {"name": "node-0", "creationTimestamp": "2026-01-01T00:00:00Z"},
    "status": {"allocatable": {"cpu": "32", "pods": "110"}, "capacity": {"cpu": "32", "pods": "110"}},
}


@pytest.mark.parametrize("stub", [True, False])
def test_default_stages_take_the_compiled_path_for_ordinary_objects(stub: bool) -> None:
    funcs = _funcs(random.Random(1), stub)
    for stage in StageSet.load(default_stages(["fast"])).stages:
        obj = PLAIN_NODE if stage.kind == "Node" else PLAIN_POD
        for patch in _patches(stage):
            assert patch.compiled is not None
            got = patch.compiled.build(obj, funcs)  # no Fallback
            assert _same(got, _text_path(patch, obj, funcs)[1])


SNIPPETS = [
    ("{{ .a }}", {"a": "yes"}),
    ("k: {{ .a }}", {"a": 3}),
    ("k: {{ .a }}", {"a": 1.5}),
    ("k: {{ .a }}", {"a": True}),
    ("k: {{ .a | Quote }}", {"a": 10}),
    ("k: {{ .a | Quote }}", {}),
    ("k: {{ .a.b }}", {"a": None}),
    ("k: {{ .a.b }}", {"a": "s"}),
    ("k: {{ .a }}\nj: x", {"a": ""}),
    ("k: {{ .a }}\n  j: x", {"a": ""}),
    ("k:{{ .a }}", {"a": "x"}),
    ("- {{ .a }}", {"a": "k: v"}),
    ("{{ range .l }}- {{ . }}\n{{ end }}", {"l": [1, "a", True, 2.5]}),
    ("{{ range $i, $x := .l }}\n- {{ $i }}: {{ $x }}{{ else }}none: 1{{ end }}", {"l": []}),
    ("{{ range $i, $x := .l }}\n- {{ $i }}: {{ $x }}{{ end }}", {"l": ["a", "b"]}),
    ("{{ range .m }}\n- {{ . }}{{ end }}", {"m": {"b": 1, "a": 2}}),
    ("{{ $x := 1 }}{{ if .a }}{{ $x = 2 }}{{ end }}x: {{ $x }}", {"a": "0"}),
    ("{{ if .a }}x: 1{{ end }}", {"a": 0}),
    ("{{ with .a }}x: {{ .b }}{{ else }}y: {{ .c }}{{ end }}", {"a": {"b": "1"}, "c": 2}),
    ("a:{{ YAML .m 1 }}\nb: 1", {"m": {"z": 1, "a": {"n": "yes"}, "l": [1.0, None, "x\ny"]}}),
    ("a:{{ YAML .m 1 }}\n  b: 1", {"m": {"z": 1}}),
    ("a:{{ YAML .m 1 }}", {"m": "scalar"}),
    ("a:{{ YAML .m 2 }}", {"m": [{"b": 1}]}),
    ("a:\n  x:{{ YAML .m 1 }}", {"m": {"k": "v"}}),
    ("a: {{ YAML .m }}", {"m": {"k": "v"}}),
    ('a: {{ printf "%s-%s" .a .b }}', {"a": "x", "b": 2}),
    ('a: {{ printf "%d" .a }}', {"a": 2}),
    ("a: {{ print .a .b }}", {"a": "x", "b": "y"}),
    ("a: {{ index .l 1 }}", {"l": [1, 2]}),
    ("a: {{ index .l 5 }}", {"l": [1, 2]}),
    ('a: {{ index .m "k" | Quote }}', {"m": {}}),
    ('a: {{ default "d" .x }}\nb: {{ default "d" .y }}', {"y": "0"}),
    ('a: {{ eq .a "3" }}\nb: {{ ne .a 3 }}', {"a": 3}),
    ('a: {{ and .a .b }}\nb: {{ or .c .d "z" }}\nc: {{ not .a }}', {"a": "x", "b": "", "d": False}),
    ("a: {{ len .l }}", {"l": [1]}),
    ("a: 'x [{{ range .l }} {{ . }} {{ end }}]'", {"l": ["a", "it's"]}),
    ("{{ .a | Quote }}", {"a": "top"}),
    ("x: {{ if .a }}A{{ else if .b }}B{{ else }}C{{ end }}", {"b": [1]}),
    ("x: {{ with $v := .a }}{{ $v }}{{ else with .b }}{{ . }}{{ end }}", {"b": "bee"}),
    ("{{ range $x := .l }}\n- {{ $x }}{{ end }}", {"l": ["p", "q"]}),
    ("{{ $r := . }}{{ range .l }}\n- {{ $r.a }}/{{ . }}{{ end }}", {"a": "x", "l": ["p"]}),
    ("a: {{ .a | Quote }} # c\nb: {{ .a | Quote }}", {"a": "x # y"}),
]


@pytest.mark.parametrize(("source", "data"), SNIPPETS)
@pytest.mark.parametrize("weird", ["", *WEIRD[:12], "multi\nline", "nel\x85", "tab\there"])
def test_snippets_equal_text_path(source: str, data: dict[str, Any], weird: str) -> None:
    functions = function_map_for("v1", "Pod")
    compiled = compile_template(source, "t", functions)
    if compiled is None:
        return  # unsupported constructs (len) keep the text path
    data = dict(data, w=weird)
    if weird and "a" in data and isinstance(data["a"], str):
        data["a"] = weird
    patch = Patch(
        template=GoTemplate(source, "t", functions),
        type=None,
        subresource="",
        root="",
        impersonation=None,
    )
    funcs = _funcs(random.Random(0), stub=True)
    expected = _text_path(patch, data, funcs)
    try:
        got = compiled.build(data, funcs)
    except Fallback:
        return
    assert expected[0] == "ok", expected
    assert _same(got, expected[1]), (got, expected[1])


def _text_only(stage: Stage) -> Stage:
    steps = tuple(
        dataclasses.replace(step, patch=step.patch and dataclasses.replace(step.patch, compiled=None))
        for step in stage.steps
    )
    return dataclasses.replace(stage, steps=steps)


@pytest.mark.parametrize("name", ["multi\nline", "nel\x85", "yes", "x: y", "é"])
def test_plan_hands_what_it_cannot_build_to_the_text_path(name: str) -> None:
    funcs = _funcs(random.Random(2), stub=False)
    stage = next(s for s in StageSet.load(default_stages(["fast"])).stages if s.name == "pod-ready")
    obj = dict(PLAIN_POD, spec=dict(PLAIN_POD["spec"], containers=[{"name": name, "image": name}]))
    expected = _text_only(stage).plan(obj, funcs, typed=True)
    assert stage.plan(obj, funcs, typed=True) == expected
    assert expected[0]["kind"] == "patch"  # the text path reads "nel\x85" as "nel " (YAML folds NEL)


def test_a_template_the_compiler_does_not_handle_still_loads_and_plans() -> None:
    doc = {
        "apiVersion": "kwok.x-k8s.io/v1alpha1",
        "kind": "Stage",
        "metadata": {"name": "shout"},
        "spec": {
            "resourceRef": {"apiVersion": "v1", "kind": "Pod"},
            "selector": {},
            "next": {"statusTemplate": 'phase: {{ upper "running" }}\nn: {{ len .spec.containers }}'},
        },
    }
    stage = Stage.compile(doc)
    (patch,) = _patches(stage)
    assert patch.compiled is None
    (action,) = stage.plan(PLAIN_POD, {}, typed=True)
    assert action["data"] == {"status": {"phase": "RUNNING", "n": 2}}


def test_unsupported_functions_keep_the_text_path() -> None:
    functions = function_map_for("v1", "Pod")
    assert compile_template("a: {{ len .l }}", "t", functions) is None
    assert compile_template('a: {{ upper "x" }}', "t", functions) is None
    assert compile_template("a: {{ .x | Quote }}", "t", functions) is not None
