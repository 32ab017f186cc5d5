"""A scrape of the default Metric gives the same exposition through the CEL fast path as through celpy."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pytest

from kwok.kubelet.debug import ConfigObjects
from kwok.kubelet.usage import MetricsEndpoint, default_documents, expressions

T0 = dt.datetime(2026, 1, 1, 0, 10, tzinfo=dt.UTC)
PATH = "/metrics/nodes/node-a/metrics/resource"


class Source:
    def __init__(self, pods: Sequence[dict[str, Any]]) -> None:
        self.config = ConfigObjects(default_documents())
        self.pods = pods

    def objects(self, kind: str) -> Sequence[Mapping[str, Any]]:
        return self.config.objects(kind)

    def node(self, name: str) -> Mapping[str, Any] | None:
        return {"metadata": {"name": name, "resourceVersion": "1", "creationTimestamp": "2026-01-01T00:00:00Z"}}

    def node_names(self) -> Iterable[str]:
        return ["node-a"]

    def pods_on_node(self, name: str) -> Iterable[Mapping[str, Any]]:
        return self.pods

    def started_containers_total(self, name: str) -> int:
        return 3


def pods() -> list[dict[str, Any]]:
    annotations: list[dict[str, Any] | None] = [
        None, {"kwok.x-k8s.io/usage-cpu": "250m", "kwok.x-k8s.io/usage-memory": "64Mi"},
        {"kwok.x-k8s.io/usage-cpu": "lots", "kwok.x-k8s.io/usage-memory": "1.5Gi"}, {"other": "x"},
    ]
    containers = [[], ["app"], ["a", "b", "c"]]
    out = []
    for i, (notes, names) in enumerate((a, c) for a in annotations for c in containers):
        meta: dict[str, Any] = {"name": f"p{i}", "namespace": "ns", "uid": f"u{i}", "resourceVersion": "2",
                                "creationTimestamp": f"2026-01-01T00:0{i % 10}:00.5Z"}
        if notes is not None:
            meta["annotations"] = notes
        out.append({"metadata": meta, "spec": {"nodeName": "node-a", "containers": [{"name": n} for n in names]}})
    return out


def two_scrapes() -> list[str]:
    expressions.compile_expression.cache_clear()
    now = [T0]
    endpoint = MetricsEndpoint(Source(pods()), lambda: now[0])
    first = endpoint.scrape(PATH) or ""
    now[0] += dt.timedelta(seconds=15)
    return [first, endpoint.scrape(PATH) or ""]


def test_default_metric_scrapes_the_same_through_celpy(monkeypatch: pytest.MonkeyPatch) -> None:
    fast = two_scrapes()
    monkeypatch.setattr(expressions, "compile_fast", lambda source: None)
    try:
        assert two_scrapes() == fast
    finally:
        expressions.compile_expression.cache_clear()
    assert 'container_cpu_usage_seconds_total{container="app",namespace="ns",pod="p4"} 3.75' in fast[1]
    assert 'container_memory_working_set_bytes{container="c",namespace="ns",pod="p8"} 1.610612736e+09' in fast[1]


def test_objects_outside_the_fast_path_are_evaluated_by_celpy() -> None:
    from kwok.engine import CELContext, CELError

    ctx = CELContext(now=T0)
    labelled = {"metadata": {"name": "p", "labels": {"app": "web"}}, "spec": {"priority": 3}}
    assert expressions.compile_expression("pod.metadata.labels").evaluate({"pod": labelled}, ctx) == {"app": "web"}
    with pytest.raises(CELError, match="no matching overload"):
        expressions.compile_expression("pod.spec.priority ? 1 : 2").evaluate({"pod": labelled}, ctx)


def test_loading_and_scraping_the_defaults_does_not_import_celpy() -> None:
    script = """
import sys, yaml, datetime as dt
import kwok.cli.controller, kwok.kubelet.run, kwok.kubelet.controller  # what `kwok` itself loads
from kwok.engine.config import load_documents
from kwok.kubelet.debug import ConfigObjects
from kwok.kubelet.usage import MetricsEndpoint, default_documents
docs = load_documents(yaml.safe_dump_all(default_documents()), "defaults").objects
pod = {"metadata": {"name": "p", "namespace": "ns", "uid": "u", "resourceVersion": "1",
       "creationTimestamp": "2026-01-01T00:00:00Z", "annotations": {"kwok.x-k8s.io/usage-cpu": "20m"}},
       "spec": {"nodeName": "n", "containers": [{"name": "a"}, {"name": "b"}]}}
class Source:
    config = ConfigObjects(docs)
    def objects(self, kind): return self.config.objects(kind)
    def node(self, name): return {"metadata": {"name": name}}
    def node_names(self): return ["n"]
    def pods_on_node(self, name): return [pod]
    def started_containers_total(self, name): return 2
endpoint = MetricsEndpoint(Source(), lambda: dt.datetime(2026, 1, 1, 0, 1, tzinfo=dt.UTC))
text = endpoint.scrape("/metrics/nodes/n/metrics/resource")
assert 'container_memory_working_set_bytes{container="b",namespace="ns",pod="p"} 1.048576e+06' in text, text
print(sorted(m for m in sys.modules if m.split(".")[0] in ("celpy", "lark")))
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
