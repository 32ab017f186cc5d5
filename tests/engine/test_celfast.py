"""The CEL fast path against cel-python: same values (and types), same errors, same validity."""

from __future__ import annotations

import datetime as dt
import itertools
import pathlib
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
import yaml

from kwok.engine import CELContext, CELError, CELProgram
from kwok.engine.celfast import Unsupported, compile_fast
from kwok.engine.config import ConfigError, load_documents
from kwok.kubelet.usage import default_documents

UPSTREAM = pathlib.Path(__file__).resolve().parents[3] / "shared/upstream/kwok/kustomize/metrics"
NOW = dt.datetime(2026, 1, 1, 0, 10, 0, 123456, tzinfo=dt.UTC)

# Shapes beyond the documents': each is in the fast path's grammar unless noted.
EXTRA = [
    'pod.metadata.annotations["missing"]', "pod.metadata.annotations.missing", "pod.metadata.nosuch",
    "pod.nosuch.x", "pod.metadata.annotations.a", "pod.spec.priority", "pod.spec.nodeName",
    "pod.status.phase", "pod.metadata.labels", "pod.spec.containers", "container.image",
    "pod.metadata.creationTimestamp", "node.status.capacity", 'Quantity(pod.metadata.annotations["a"])',
    'Quantity("1m")', "Quantity('250m')", "'x'", '""', "1", "-1", "- 2", "1.5", "-0.25", "0", "true", "false",
    '"a" in pod.metadata.annotations', '"a" in pod.metadata.name', '"a" in pod.spec',
    'pod.metadata.annotations["a"] ? 1 : 2', "pod.spec.priority ? 1 : 2", "true ? 1 : 2",
    'false ? pod.metadata.annotations["missing"] : "no"', "(pod.metadata).name", "(pod.metadata.name)",
    '"kwok.x-k8s.io/usage-cpu" in pod.metadata.annotations ? pod.metadata.annotations["kwok.x-k8s.io/usage-cpu"] : "1m"',
    "SinceSecond(pod)", "node.SinceSecond()", "container.SinceSecond()", 'Usage(pod, "cpu")',
    'CumulativeUsage(pod, "cpu", container.name)', 'node.Usage("cpu")', 'pod.Usage("cpu", "nosuch")',
    "StartedContainersTotal(node)", "node.startedContainersTotal()", 'StartedContainersTotal("node-x")',
    "Rand()", 'pod.metadata.annotations["a"] in pod.metadata.labels ? Rand() : pod.SinceSecond()',
    "pod.spec.containers[0]", "pod.metadata.annotations[pod.metadata.name]", "pod.metadata.x_y",
]
# In the grammar, but every value they meet is outside the model (objects, lists, times as results,
# non-bool conditions, `in` over a non-map): each evaluation falls back to celpy.
ALWAYS_CELPY = {"pod.metadata.labels", "pod.spec.containers", "pod.metadata.creationTimestamp",
                "node.status.capacity", "pod.spec.containers[0]", 'pod.metadata.annotations["a"] ? 1 : 2',
                "pod.spec.priority ? 1 : 2", '"a" in pod.metadata.name', '"a" in pod.spec'}
# Outside the grammar: celpy alone, as before.
DECLINED = ["pod.metadata.name + 'x'", 'Quantity("1m") * 2', "Now()", "has(pod.metadata.name)",
            "self.x", "1u", "1e3", "01", '"a\\n"', "pod.metadata.name == 'x'", "size(pod.spec.containers)",
            "pod.metadata.name // c", 'pod.metadata.labels["a"] || true', "x ? y : z", "-pod.spec.priority",
            "pod.true", "1.", "(pod", "\u0663", "pod.metadata.name\u00a0", "pod.Foo()", 'Quantity("1m", "2")', '"1m".Quantity()']


def documents_expressions(docs: list[Mapping[str, Any]]) -> Iterator[str]:
    for doc in docs:
        spec = doc.get("spec") or {}
        for metric in spec.get("metrics") or []:
            yield metric["value"]
            yield from (label["value"] for label in metric.get("labels") or [])
            yield from (bucket["value"] for bucket in metric.get("buckets") or [])
        for usage in spec.get("usages") or []:
            yield from (v["expression"] for v in (usage.get("usage") or {}).values() if v.get("expression"))


def upstream_documents() -> list[Mapping[str, Any]]:
    files = sorted(UPSTREAM.rglob("*.yaml")) if UPSTREAM.is_dir() else []
    docs = [d for f in files for d in yaml.safe_load_all(f.read_text()) if isinstance(d, Mapping)]
    return [d for d in docs if d.get("kind") in ("Metric", "ResourceUsage", "ClusterResourceUsage")]


DOCUMENT_EXPRESSIONS = sorted(set(documents_expressions(default_documents()))
                              | set(documents_expressions(upstream_documents())))


def pods() -> Iterator[dict[str, Any]]:
    """Well-formed and odd pods: missing or null annotations, bad quantities, 0-3 containers."""
    annotation_sets: list[Any] = [
        None, {}, {"kwok.x-k8s.io/usage-cpu": "250m", "kwok.x-k8s.io/usage-memory": "64Mi", "a": "1"},
        {"kwok.x-k8s.io/usage-cpu": "lots", "kwok.x-k8s.io/usage-memory": "", "a": "x"},
        {"kwok.x-k8s.io/usage-cpu": None, "a": None}, {"kwok.x-k8s.io/usage-memory": "1.5Gi", "p": "q"},
    ]
    stamps: list[Any] = [None, "2026-01-01T00:00:00Z", "2025-12-31T23:59:58.987654321Z", "", "yesterday"]
    containers: list[list[dict[str, Any]]] = [[], [{"name": "app", "image": "x"}],
                                              [{"name": "a"}, {"name": "b", "image": "y"}, {"name": "c"}]]
    for i, (notes, stamp, cs) in enumerate(itertools.product(annotation_sets, stamps, containers)):
        meta: dict[str, Any] = {"name": f"pod-{i}", "namespace": "ns", "uid": f"u{i}", "resourceVersion": "1"}
        if notes is not None:
            meta["annotations"] = notes
        if stamp is not None:
            meta["creationTimestamp"] = stamp
        yield {"metadata": meta, "spec": {"nodeName": "node-x", "containers": cs, "priority": i % 3}}
    yield {"spec": {"containers": [{"name": "app"}]}}
    yield {"metadata": None, "spec": None}
    yield {"metadata": {"name": "labelled", "labels": {"a": "1"}, "annotations": {"a": "1"}}, "status": {"phase": 7}}


NODES = [{"metadata": {"name": "node-x", "creationTimestamp": "2026-01-01T00:00:00Z"}}, {}]


def context() -> CELContext:
    """Providers that depend only on their arguments, so both paths see the same numbers."""
    def usage(obj: Any, resource: str, container: str | None = None) -> float:
        name = str(((obj.get("metadata") or {}).get("name")) or "")
        return len(name) * 1.25 + len(resource) + len(container or "")

    def started(name: str) -> int:
        return len(name)

    return CELContext(now=NOW, rand=lambda: 0.5, usage=usage, cumulative_usage=lambda *a: usage(*a) * 2,
                      started_containers_total=started)


def outcome(evaluate: Any, variables: Mapping[str, Any], ctx: CELContext) -> tuple[str, Any]:
    try:
        value = evaluate(variables, ctx)
    except CELError as err:
        return "error", str(err)
    return type(value).__name__, value


def scopes() -> Iterator[dict[str, Any]]:
    for node, pod in itertools.product(NODES, pods()):
        for container in ((pod.get("spec") or {}).get("containers") or [{"name": "none"}]):
            yield {"node": node, "pod": pod, "container": container}


@pytest.mark.parametrize("source", DOCUMENT_EXPRESSIONS + EXTRA)
def test_fast_path_gives_celpy_results(source: str) -> None:
    fast, cel, ctx = compile_fast(source), CELProgram(source), context()
    assert fast is not None, f"{source!r} should be in the fast path's grammar"
    served = 0
    for variables in scopes():
        try:
            got = outcome(fast.evaluate, variables, ctx)
        except Unsupported:
            continue
        served += 1
        assert got == outcome(cel.evaluate, variables, ctx), (source, variables)
    assert (served == 0) == (source in ALWAYS_CELPY)


@pytest.mark.parametrize("source", DOCUMENT_EXPRESSIONS)
def test_documents_expressions_never_leave_the_fast_path_on_well_formed_objects(source: str) -> None:
    fast, ctx = compile_fast(source), context()
    assert fast is not None
    pod = {"metadata": {"name": "p", "namespace": "ns", "creationTimestamp": "2026-01-01T00:00:00Z",
                        "annotations": {"kwok.x-k8s.io/usage-cpu": "bad"}},
           "spec": {"containers": [{"name": "app"}]}}
    for variables in ({"node": NODES[0], "pod": pod, "container": pod["spec"]["containers"][0]},
                      {"node": NODES[1], "pod": {}, "container": {}}):
        outcome(fast.evaluate, variables, ctx)  # raises Unsupported if it would need celpy


def test_upstream_metrics_documents_are_covered() -> None:
    if not UPSTREAM.is_dir():
        pytest.skip("no upstream checkout beside this one")
    assert {d["kind"] for d in upstream_documents()} >= {"Metric", "ClusterResourceUsage"}


@pytest.mark.parametrize("source", DECLINED)
def test_other_expressions_are_left_to_celpy(source: str) -> None:
    assert compile_fast(source) is None


@pytest.mark.parametrize("source", DOCUMENT_EXPRESSIONS + EXTRA)
def test_what_the_fast_path_accepts_is_valid_cel(source: str) -> None:
    CELProgram(source)  # raises CELError on a syntax error


def test_only_functions_in_result_position_may_have_effects() -> None:
    # Quantity(pod.Usage(...)) could fall back to celpy after the provider ran (twice for a counter).
    assert compile_fast('Quantity(pod.Usage("cpu"))') is None
    assert compile_fast('"a" in pod.metadata.annotations ? pod.Usage("cpu") : pod.CumulativeUsage("cpu")')


def test_static_expressions_are_those_observing_only_their_objects() -> None:
    static = {s: compile_fast(s).static for s in DOCUMENT_EXPRESSIONS}  # type: ignore[union-attr]
    assert static["pod.metadata.name"] and static["container.name"] and static["0"]
    assert not static["pod.SinceSecond()"] and not static['node.Usage("memory")']


def test_invalid_cel_in_a_metric_is_still_reported_by_celpy_with_its_path() -> None:
    doc = {"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "Metric", "metadata": {"name": "m"},
           "spec": {"path": "/m", "metrics": [{"name": "x", "kind": "gauge", "dimension": "node",
                                               "value": "node.Usage(", "help": "h"}]}}
    with pytest.raises(ConfigError, match=r'Metric "m"\): spec\.metrics\[0\]\.value: invalid CEL expression'):
        load_documents(yaml.safe_dump(doc))


def declared_paths() -> list[str]:
    """`var.field[.field]` for the declared fields of Node, Pod and Container (zero values of every kind)."""
    from kwok.api.schema import get_schema

    schema, out = get_schema(), []
    for variable, kind in (("pod", "Pod"), ("node", "Node"), ("container", "Container")):
        message = schema.message(schema.message_for_kind("", "v1", kind) or f"k8s.io.api.core.v1.{kind}")
        assert message is not None
        for name, field in sorted(message.fields.items()):
            out.append(f"{variable}.{name}")
            inner = schema.message(field.ref) if field.type == "message" and field.ref and not field.repeated else None
            out += [f"{variable}.{name}.{sub}" for sub in sorted(inner.fields)] if inner is not None else []
    return out


def test_every_declared_field_reads_as_celpy_reads_it() -> None:
    ctx, served = context(), 0
    objects = [{"node": {}, "pod": {}, "container": {}}, next(iter(scopes()))]
    objects.append({"node": {"metadata": {"name": "n", "labels": {"a": "b"}}, "spec": {"unschedulable": True}},
                    "pod": {"spec": {"priority": 5, "hostNetwork": False, "nodeName": "x"}, "status": {"phase": "Running"}},
                    "container": {"name": "c", "stdin": True, "workingDir": "/w"}})
    paths = declared_paths()
    for source in paths:
        fast, cel = compile_fast(source), CELProgram(source)
        assert fast is not None, source
        for variables in objects:
            try:
                got = outcome(fast.evaluate, variables, ctx)
            except Unsupported:
                continue
            served += 1
            assert got == outcome(cel.evaluate, variables, ctx), (source, variables)
    assert served > len(paths)  # scalars and maps are served; objects, lists and times go to celpy
