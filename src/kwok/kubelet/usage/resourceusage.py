"""Usage() and CumulativeUsage(): the cpu/memory a container uses, from ResourceUsage objects.

A container's usage of a resource comes from the namespaced ResourceUsage named like its pod
(exclusive when it exists), else the first ClusterResourceUsage whose selector matches; within
it the first `usages` entry naming the container, else the entry naming none. `value` (a
Quantity) wins over `expression` (CEL over node, pod and container); no entry means 0.

CumulativeUsage integrates usage over time between successive evaluations, from 0 at the first
one. KWOK keys a node's accumulator by the node name alone, so cpu and memory of a node would
share it; here each resource has its own, which is what any query of them assumes.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from kwok.api.quantity import Quantity, QuantityError
from kwok.engine import CELContext
from kwok.engine.celquantity import as_float
from kwok.kubelet.debug.selection import Feature, TargetNotFound, select
from kwok.kubelet.usage.expressions import compile_expression
from kwok.kubelet.usage.source import Obj, UsageSource

log = logging.getLogger("kwok.kubelet.usage")

RESOURCE_USAGE = Feature(
    "ResourceUsage", "ClusterResourceUsage", "usages", "containers", "usage not found", "no usage found"
)
STATIC_CACHE_LIMIT = 200_000
FORGET_AFTER = dt.timedelta(hours=1)


def is_pod(obj: Obj) -> bool:
    return bool((obj.get("metadata") or {}).get("namespace"))


def _revision(obj: Obj) -> tuple[str, str, str]:
    meta = obj.get("metadata") or {}
    return (str(meta.get("namespace") or ""), str(meta.get("name") or ""), str(meta.get("resourceVersion") or ""))


class ResourceUsages:
    """Usage providers for one scrape at a time (`begin` before each)."""

    def __init__(self, source: UsageSource) -> None:
        self.source = source
        self.now = dt.datetime.now(dt.UTC)
        self._scrape: dict[tuple[Any, ...], float] = {}
        self._static: dict[tuple[Any, ...], float] = {}
        self._cumulative: dict[tuple[str, ...], tuple[dt.datetime, float]] = {}
        self._reported: set[str] = set()
        self._pruned: dt.datetime | None = None
        self.context = self._context()

    def begin(self, now: dt.datetime) -> None:
        self.now = now
        self.context = self._context()
        self._scrape.clear()
        if len(self._static) > STATIC_CACHE_LIMIT:
            self._static.clear()
        if self._pruned is None:
            self._pruned = now
        elif now - self._pruned > FORGET_AFTER:
            self._prune()

    def _prune(self) -> None:
        """Forget the accumulators nobody asked for in a while: pods that are gone (or whose node
        is no longer scraped) would otherwise pile up over a long simulation with pod churn."""
        horizon = self.now - FORGET_AFTER
        self._cumulative = {k: v for k, v in self._cumulative.items() if v[0] >= horizon}
        self._pruned = self.now

    def _context(self) -> CELContext:
        return CELContext(
            now=self.now,
            usage=self.usage,
            cumulative_usage=self.cumulative_usage,
            started_containers_total=self.source.started_containers_total,
        )

    def usage(self, obj: Obj, resource: str, container: str | None = None) -> float:
        if not is_pod(obj):
            name = str((obj.get("metadata") or {}).get("name") or "")
            return sum(self.usage(pod, resource) for pod in self.source.pods_on_node(name))
        if container is not None:
            return self.container_usage(obj, container, resource)
        containers = (obj.get("spec") or {}).get("containers") or []
        return sum(self.container_usage(obj, str(c.get("name") or ""), resource) for c in containers)

    def cumulative_usage(self, obj: Obj, resource: str, container: str | None = None) -> float:
        meta = obj.get("metadata") or {}
        key = (resource, str(meta.get("namespace") or ""), str(meta.get("name") or ""), container or "")
        current = self.usage(obj, resource, container)
        last = self._cumulative.get(key)
        total = 0.0 if last is None else last[1] + (self.now - last[0]).total_seconds() * current
        self._cumulative[key] = (self.now, total)
        return total

    def container_usage(self, pod: Obj, container: str, resource: str) -> float:
        key = (*_revision(pod), container, resource)
        cached = self._scrape.get(key)
        if cached is None:
            cached = self._scrape[key] = self._evaluate(pod, container, resource, key)
        return cached

    def _evaluate(self, pod: Obj, container: str, resource: str, key: tuple[Any, ...]) -> float:
        meta = pod.get("metadata") or {}
        namespace, name = str(meta.get("namespace") or ""), str(meta.get("name") or "")
        try:
            entry = select(RESOURCE_USAGE, self.source.objects("ResourceUsage"),
                           self.source.objects("ClusterResourceUsage"), namespace, name, container)
        except TargetNotFound:
            return 0.0
        spec = (entry.get("usage") or {}).get(resource)
        if not spec:
            return 0.0
        if spec.get("value") is not None:
            return self._quantity(spec["value"], namespace, name)
        if spec.get("expression"):
            return self._expression(str(spec["expression"]), pod, container, key)
        return 0.0

    def _quantity(self, value: Any, namespace: str, name: str) -> float:
        try:
            return float(Quantity(str(value)))
        except QuantityError as err:
            self._report(f"usage of pod {namespace}/{name}: {err}")
            return 0.0

    def _expression(self, source: str, pod: Obj, container: str, key: tuple[Any, ...]) -> float:
        expression = compile_expression(source)
        static_key = (source, *key)
        if expression.static and static_key in self._static:
            return self._static[static_key]
        node = self.source.node(str((pod.get("spec") or {}).get("nodeName") or "")) or {}
        variables = {"node": node, "pod": pod, "container": _container(pod, container)}
        try:
            value = as_float(expression.evaluate(variables, self.context))
        except (ValueError, TypeError, KeyError) as err:
            self._report(f"usage expression {source!r} on pod {key[0]}/{key[1]}: {err}")
            return 0.0
        if expression.static:
            self._static[static_key] = value
        return value

    def _report(self, problem: str) -> None:
        if problem not in self._reported:
            self._reported.add(problem)
            log.warning("%s; using 0", problem)


def _container(pod: Obj, name: str) -> Mapping[str, Any]:
    for container in (pod.get("spec") or {}).get("containers") or []:
        if container.get("name") == name:
            return container  # type: ignore[no-any-return]
    return {"name": name}
