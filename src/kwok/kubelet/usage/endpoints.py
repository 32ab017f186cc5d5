"""GET /metrics/... (Metric objects) and /discovery/prometheus (Prometheus HTTP service discovery)."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from aiohttp import web

from kwok.kubelet.usage.exposition import Family, render
from kwok.kubelet.usage.metric import MetricEvaluator
from kwok.kubelet.usage.resourceusage import ResourceUsages
from kwok.kubelet.usage.source import Obj, UsageSource

NODE_NAME = "{nodeName}"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@functools.lru_cache(maxsize=256)
def path_pattern(path: str) -> re.Pattern[str]:
    """A Metric's spec.path as a pattern; {nodeName} matches one path segment."""
    parts = [re.escape(p) for p in path.split(NODE_NAME)]
    return re.compile("(?P<node>[^/]+)".join(parts) + "$")


def matching(metrics: Sequence[Obj], path: str) -> Iterator[tuple[Obj, str]]:
    """(Metric, node name) for every Metric serving this request path."""
    for metric in metrics:
        spec_path = str((metric.get("spec") or {}).get("path") or "")
        match = path_pattern(spec_path).match(path) if spec_path else None
        if match is not None:
            # Without {nodeName} in its path, a Metric is about the "node" named like itself.
            node = match.group("node") if NODE_NAME in spec_path else str(metric["metadata"]["name"])
            yield metric, node


class MetricsEndpoint:
    def __init__(self, source: UsageSource, clock: Any = None) -> None:
        self.source = source
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.usages = ResourceUsages(source)
        self.evaluator = MetricEvaluator(self.usages)

    def scrape(self, path: str) -> str | None:
        """The exposition for a request path; None when no Metric serves it."""
        found = list(matching(self.source.objects("Metric"), path))
        if not found:
            return None
        self.usages.begin(self.clock())
        families: dict[str, Family] = {}
        for metric, node_name in found:
            node = self.source.node(node_name) or {"metadata": {"name": node_name}}
            pods = list(self.source.pods_on_node(node_name))
            for family in self.evaluator.families((metric.get("spec") or {}).get("metrics") or [], node, pods):
                families.setdefault(family.name, family).samples.update(family.samples)
        return render(families.values())

    async def handle(self, request: web.Request) -> web.Response:
        text = self.scrape(request.path)
        if text is None:
            return web.Response(status=404, text="404 page not found\n")
        return web.Response(body=text.encode(), headers={"Content-Type": CONTENT_TYPE})


def discovery_targets(source: UsageSource, host: str, scheme: str) -> list[Mapping[str, Any]]:
    """One target per Metric, or per managed node for a Metric whose path has {nodeName}."""
    out = []
    for metric in source.objects("Metric"):
        path = str((metric.get("spec") or {}).get("path") or "")
        name = str((metric.get("metadata") or {}).get("name") or "")
        paths = [path.replace(NODE_NAME, node) for node in sorted(source.node_names())] if NODE_NAME in path else [path]
        out += [_target(host, scheme, name, p) for p in paths]
    return out


def _target(host: str, scheme: str, name: str, path: str) -> Mapping[str, Any]:
    return {"targets": [host], "labels": {"metrics_name": name, "__scheme__": scheme, "__metrics_path__": path}}


async def discovery(request: web.Request, source: UsageSource) -> web.Response:
    scheme = "https" if request.secure else "http"
    return web.json_response(discovery_targets(source, request.host, scheme))
