"""Metric objects evaluated into Prometheus text, with usage from (Cluster)ResourceUsage objects."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pytest

from kwok.engine import CELContext, CELProgram
from kwok.kubelet.debug import ConfigObjects
from kwok.kubelet.usage import MetricsEndpoint, default_documents
from kwok.kubelet.usage.endpoints import discovery_targets
from kwok.kubelet.usage.exposition import go_float
from kwok.kubelet.usage.expressions import compile_expression

T0 = dt.datetime(2026, 1, 1, 0, 10, tzinfo=dt.UTC)
UIDS = itertools.count()


class Source:
    def __init__(self, documents: Iterable[Mapping[str, Any]], pods: Sequence[dict[str, Any]]) -> None:
        self.config = ConfigObjects(documents)
        self.pods = pods

    def objects(self, kind: str) -> Sequence[Mapping[str, Any]]:
        return self.config.objects(kind)

    def node(self, name: str) -> Mapping[str, Any] | None:
        return {"metadata": {"name": name, "resourceVersion": "1", "creationTimestamp": "2026-01-01T00:00:00Z"}}

    def node_names(self) -> Iterable[str]:
        return ["node-b", "node-a"]

    def pods_on_node(self, name: str) -> Iterable[Mapping[str, Any]]:
        return [p for p in self.pods if p["spec"]["nodeName"] == name]

    def started_containers_total(self, name: str) -> int:
        return 7


def pod(name: str, annotations: dict[str, str] | None = None, containers: Sequence[str] = ("app",)) -> dict[str, Any]:
    return {
        # A fresh uid each time: evaluations are cached per object revision (uid, resourceVersion).
        "metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}-{next(UIDS)}", "resourceVersion": "3",
                     "creationTimestamp": "2026-01-01T00:00:00Z", "annotations": annotations or {}},
        "spec": {"nodeName": "node-a", "containers": [{"name": c, "image": "x"} for c in containers]},
    }


def metric(path: str, *metrics: dict[str, Any], name: str = "m") -> dict[str, Any]:
    return {"kind": "Metric", "metadata": {"name": name}, "spec": {"path": path, "metrics": list(metrics)}}


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now


def series(text: str) -> dict[str, str]:
    return dict(line.rsplit(" ", 1) for line in text.splitlines() if not line.startswith("#"))


def test_default_metric_emulates_kubelet_resource_metrics_from_annotations() -> None:
    pods = [pod("web", {"kwok.x-k8s.io/usage-cpu": "250m", "kwok.x-k8s.io/usage-memory": "64Mi"}),
            pod("db", containers=("db", "backup"))]
    clock = Clock()
    endpoint = MetricsEndpoint(Source(default_documents(), pods), clock)
    first = series(endpoint.scrape("/metrics/nodes/node-a/metrics/resource") or "")
    assert first['container_memory_working_set_bytes{container="app",namespace="default",pod="web"}'] == "6.7108864e+07"
    assert first['container_memory_working_set_bytes{container="db",namespace="default",pod="db"}'] == "1.048576e+06"
    assert first['pod_memory_working_set_bytes{namespace="default",pod="db"}'] == "2.097152e+06"
    assert first["node_memory_working_set_bytes"] == "6.9206016e+07"
    assert first['container_cpu_usage_seconds_total{container="app",namespace="default",pod="web"}'] == "0"
    assert first['container_start_time_seconds{container="app",namespace="default",pod="web"}'] == "600"
    assert first["scrape_error"] == "0"
    clock.now += dt.timedelta(seconds=10)
    second = series(endpoint.scrape("/metrics/nodes/node-a/metrics/resource") or "")
    assert second['container_cpu_usage_seconds_total{container="app",namespace="default",pod="web"}'] == "2.5"
    assert second['pod_cpu_usage_seconds_total{namespace="default",pod="db"}'] == "0.02"
    assert second["node_cpu_usage_seconds_total"] == "2.52"


def test_exposition_is_sorted_and_typed_like_client_golang() -> None:
    m = metric("/metrics/nodes/{nodeName}/custom",
               {"name": "z_pods", "kind": "gauge", "dimension": "pod", "help": "Pods.\nPer node.",
                "labels": [{"name": "pod", "value": "pod.metadata.name"}, {"name": "node", "value": "node.metadata.name"}],
                "value": "1"},
               {"name": "a_started", "kind": "counter", "value": "StartedContainersTotal(node.metadata.name)"})
    text = MetricsEndpoint(Source([m], [pod("b"), pod("a")])).scrape("/metrics/nodes/node-a/custom")
    assert text == (
        "# TYPE a_started counter\n"
        "a_started 7\n"
        "# HELP z_pods Pods.\\nPer node.\n"
        "# TYPE z_pods gauge\n"
        'z_pods{node="node-a",pod="a"} 1\n'
        'z_pods{node="node-a",pod="b"} 1\n'
    )


def test_histogram_hidden_buckets_carry_into_the_next_shown_one() -> None:
    m = metric("/metrics/h", {"name": "latency", "kind": "histogram", "buckets": [
        {"le": 0.1, "value": "2"}, {"le": 0.5, "value": "3", "hidden": True}, {"le": 1, "value": "1"},
        {"le": 2, "value": "4", "hidden": True}]})
    text = MetricsEndpoint(Source([m], [])).scrape("/metrics/h")
    assert text == (
        "# TYPE latency histogram\n"
        'latency_bucket{le="0.1"} 2\n'
        'latency_bucket{le="1"} 6\n'
        'latency_bucket{le="+Inf"} 10\n'
        "latency_sum 10.7\n"  # Σ le·count: 0.2 + 1.5 + 1 + 8

        "latency_count 10\n"
    )


def test_resource_usage_selection_and_values() -> None:
    documents = [
        {"kind": "ResourceUsage", "metadata": {"name": "web", "namespace": "default"},
         "spec": {"usages": [{"containers": ["app"], "usage": {"cpu": {"value": "2"}}}]}},
        {"kind": "ClusterResourceUsage", "metadata": {"name": "all"},
         "spec": {"usages": [{"usage": {"cpu": {"value": "100m"}, "memory": {"expression": 'Quantity("1Ki") * 2'}}}]}},
    ]
    m = metric("/metrics/nodes/{nodeName}/u", {"name": "cpu", "kind": "gauge", "dimension": "container",
               "labels": [{"name": "c", "value": "pod.metadata.name + '/' + container.name"}],
               "value": 'pod.Usage("cpu", container.name) + Usage(pod, "memory", container.name)'})
    pods = [pod("web", containers=("app", "sidecar")), pod("api")]
    out = series(MetricsEndpoint(Source([*documents, m], pods)).scrape("/metrics/nodes/node-a/u") or "")
    assert out == {'cpu{c="web/app"}': "2", 'cpu{c="web/sidecar"}': "0", 'cpu{c="api/app"}': "2048.1"}


def test_unknown_paths_and_discovery() -> None:
    documents = [metric("/metrics/nodes/{nodeName}/metrics/resource", name="metrics-resource"),
                 metric("/metrics/global", name="global")]
    source = Source(documents, [])
    assert MetricsEndpoint(source).scrape("/metrics/nodes/node-a/other") is None
    targets = discovery_targets(source, "127.0.0.1:10247", "https")
    assert [t["labels"]["__metrics_path__"] for t in targets] == [
        "/metrics/nodes/node-a/metrics/resource", "/metrics/nodes/node-b/metrics/resource", "/metrics/global"]
    assert targets[0] == {"targets": ["127.0.0.1:10247"], "labels": {
        "metrics_name": "metrics-resource", "__scheme__": "https", "__metrics_path__": "/metrics/nodes/node-a/metrics/resource"}}


@pytest.mark.parametrize("source", [
    "container.name", "pod.metadata.namespace", "pod.metadata.uid", "pod.status.phase", "0", "12.5",
    "pod.SinceSecond()", 'pod.Usage("cpu", container.name)', 'CumulativeUsage(pod, "memory")', 'node.Usage("cpu")',
])
def test_fast_paths_agree_with_cel(source: str) -> None:
    calls: list[tuple[Any, ...]] = []

    def usage(obj: Any, resource: str, container: str | None = None) -> float:
        calls.append((obj["metadata"]["name"], resource, container))
        return 1.5

    ctx = CELContext(now=T0, usage=usage, cumulative_usage=usage)
    variables = {"node": {"metadata": {"name": "n"}}, "pod": pod("web"), "container": {"name": "app", "image": "x"}}
    fast = compile_expression(source).evaluate(variables, ctx)
    slow = CELProgram(source).evaluate(variables, ctx)
    assert fast == slow
    assert calls[: len(calls) // 2] == calls[len(calls) // 2 :]


@pytest.mark.parametrize(("value", "text"), [
    (1048576.0, "1.048576e+06"), (123456.0, "123456"), (0.0001, "0.0001"), (0.00001, "1e-05"), (2.5, "2.5"),
    (-3.0, "-3"), (float("inf"), "+Inf"), (float("nan"), "NaN"), (1e21, "1e+21"),
])
def test_numbers_print_as_go_does(value: float, text: str) -> None:
    assert go_float(value) == text


def test_cumulative_usage_of_pods_gone_for_an_hour_restarts_from_zero() -> None:
    pods = [pod("web", {"kwok.x-k8s.io/usage-cpu": "1"})]
    source = Source(default_documents(), pods)
    clock = Clock()
    endpoint = MetricsEndpoint(source, clock)
    key = 'pod_cpu_usage_seconds_total{namespace="default",pod="web"}'
    for _ in range(3):
        endpoint.scrape("/metrics/nodes/node-a/metrics/resource")
        clock.now += dt.timedelta(seconds=30)
    assert series(endpoint.scrape("/metrics/nodes/node-a/metrics/resource") or "")[key] == "90"
    source.pods = []  # deleted: no longer scraped
    clock.now += dt.timedelta(hours=2)
    endpoint.scrape("/metrics/nodes/node-a/metrics/resource")
    source.pods = pods  # a new pod of the same name starts its counter afresh
    assert series(endpoint.scrape("/metrics/nodes/node-a/metrics/resource") or "")[key] == "0"
