"""CEL as KWOK evaluates it: typed Node/Pod/Container, KWOK's functions, Quantity arithmetic."""

from __future__ import annotations

import datetime as dt
import pathlib
from typing import Any

import pytest

from kwok.engine import yamlcodec
from kwok.engine.celexpr import CELContext, CELError, CELProgram
from kwok.engine.celfuncs import CELQuantity, as_float
from tests.conftest import SHARED_DIR

NOW = dt.datetime(2024, 1, 1, 0, 1, 0, tzinfo=dt.UTC)
POD = {
    "metadata": {"name": "p", "namespace": "ns", "creationTimestamp": "2024-01-01T00:00:00Z"},
    "spec": {"nodeName": "n", "containers": [{"name": "c", "resources": {"requests": {"cpu": "100m"}}}]},
}


def run(expression: str, ctx: CELContext | None = None, **variables: Any) -> Any:
    return CELProgram(expression).evaluate(variables or {"pod": POD}, ctx or CELContext(now=NOW))


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('"kwok.x-k8s.io/usage-cpu" in pod.metadata.annotations', False),  # unset map reads empty
        ('pod.status.phase == ""', True),  # unset string reads ""
        ("has(pod.status.phase)", False),  # ... but has() knows it is unset
        ("has(pod.metadata.name)", True),
        ("has(pod.metadata.deletionTimestamp)", False),
        ("size(pod.spec.containers)", 1),
        ("pod.metadata.creationTimestamp < Now()", True),  # times are timestamps
        ("pod.SinceSecond()", 60.0),  # receiver style
        ("SinceSecond(pod)", 60.0),
        ("UnixSecond(Now())", 1704067260.0),
        ('double(Quantity("1.5"))', 1.5),
    ],
)
def test_typed_objects_and_functions(expression: str, expected: Any) -> None:
    assert run(expression) == expected


def test_unknown_field_of_a_typed_object_is_an_error() -> None:
    with pytest.raises(CELError, match="bogus"):
        run("pod.spec.bogus")


def test_plain_maps_for_other_kinds_raise_on_missing_fields() -> None:
    # KWOK evaluates generic (unstructured) objects as maps: no zero values there.
    with pytest.raises(CELError):
        run("self.status.phase == 'Bound'", self={"status": {}})
    assert run("has(self.status.phase)", self={"status": {}}) is False


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ('Quantity("1Mi") * 2', 2 * 1024 * 1024),
        ('2 * Quantity("1Mi")', 2 * 1024 * 1024),
        ('Quantity("1") + Quantity("500m")', 1.5),
        ('Quantity("1") - Quantity("1500m")', -0.5),
        ('-Quantity("250m")', -0.25),
        ('Quantity("2") / 4', 0.5),
        ('Quantity("1Mi") / Quantity("1Ki")', 1024),
        ('pod.spec.containers[0].resources.requests["cpu"] * 3', 0.3),
    ],
)
def test_quantity_arithmetic(expression: str, value: float) -> None:
    result = run(expression)
    assert isinstance(result, CELQuantity)
    assert as_float(result) == pytest.approx(value)


def test_quantity_comparison_and_bad_quantity() -> None:
    assert run('Quantity("1") > Quantity("500m")') is True
    assert run('Quantity("1Gi") == Quantity("1024Mi")') is True
    with pytest.raises(CELError, match="Quantity"):
        run('Quantity("lots")')


def test_usage_functions_come_from_the_caller() -> None:
    calls: list[tuple[Any, ...]] = []

    def usage(obj: dict[str, Any], resource: str, container: str | None) -> float:
        calls.append((obj["metadata"]["name"], resource, container))
        return 0.25

    ctx = CELContext(
        now=NOW, usage=usage, cumulative_usage=lambda o, r, c: 9.0, started_containers_total=lambda n: 3
    )
    container = POD["spec"]["containers"][0]
    assert run('pod.Usage("memory", container.name)', ctx, pod=POD, container=container) == 0.25
    assert run('Usage(pod, "cpu")', ctx) == 0.25
    assert run('pod.CumulativeUsage("cpu")', ctx) == 9.0
    assert run('StartedContainersTotal("n")', ctx) == 3
    assert run("StartedContainersTotal(node)", ctx, node={"metadata": {"name": "n"}}) == 3
    assert calls == [("p", "memory", "c"), ("p", "cpu", None)]


def test_rand_and_now_are_injected() -> None:
    ctx = CELContext(now=NOW, rand=lambda: 0.75)
    assert run("Rand()", ctx) == 0.75
    assert run("Now()", ctx) == NOW


def test_syntax_errors_name_the_position() -> None:
    with pytest.raises(CELError, match=r"syntax error at 1:8"):
        CELProgram("self.a ==")


UPSTREAM_METRICS = pathlib.Path(SHARED_DIR + "/upstream/kwok/kustomize/metrics")


@pytest.mark.skipif(not UPSTREAM_METRICS.exists(), reason="upstream data not present")
def test_upstream_usage_and_metric_expressions_evaluate() -> None:
    usage_doc = yamlcodec.load((UPSTREAM_METRICS / "usage/usage-from-annotation.yaml").read_text())
    usage = usage_doc["spec"]["usages"][0]["usage"]
    annotated = dict(POD, metadata=dict(POD["metadata"], annotations={"kwok.x-k8s.io/usage-cpu": "250m"}))
    assert as_float(run(usage["cpu"]["expression"], pod=POD)) == pytest.approx(0.001)
    assert as_float(run(usage["cpu"]["expression"], pod=annotated)) == pytest.approx(0.25)
    assert as_float(run(usage["memory"]["expression"], pod=POD)) == 1024 * 1024

    metric = yamlcodec.load((UPSTREAM_METRICS / "resource/metrics-resource.yaml").read_text())
    ctx = CELContext(now=NOW, usage=lambda o, r, c: 1.0, cumulative_usage=lambda o, r, c: 2.0)
    variables = {"node": {"metadata": {"name": "n"}}, "pod": POD, "container": POD["spec"]["containers"][0]}
    for m in metric["spec"]["metrics"]:
        scope = {"node": ["node"], "pod": ["node", "pod"], "container": ["node", "pod", "container"]}[
            m.get("dimension", "node")
        ]
        given = {k: variables[k] for k in scope}
        assert isinstance(as_float(CELProgram(m["value"]).evaluate(given, ctx)), float), m["name"]
        for label in m.get("labels") or []:
            assert isinstance(CELProgram(label["value"]).evaluate(given, ctx), str)


def test_functions_on_objects_without_the_field_do_not_crash() -> None:
    ctx = CELContext(now=NOW)
    assert run("pod.SinceSecond()", ctx, pod={"metadata": {"name": "new"}}) == 0.0
    assert run("self.SinceSecond()", ctx, self={"metadata": {}}) == 0.0
    with pytest.raises(CELError):
        run("UnixSecond('not a time')", ctx)
