"""Evaluating Metric objects for one node: series per node, pod or container, as KWOK defines them.

Each metric's `dimension` says what one series stands for: the node (variable `node`), each pod
on it (`node`, `pod`) or each container of those pods (`node`, `pod`, `container`). Labels are
CEL strings, values CEL numbers (Quantity, duration in ns and bool become floats). A histogram's
buckets each give the count for their `le`; a hidden bucket is not shown but its count carries
into the next shown one, and `+Inf`, `_sum` (Σ le·count) and `_count` are derived.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from kwok.engine.celquantity import as_float
from kwok.kubelet.usage.exposition import Family, Histogram, Labels
from kwok.kubelet.usage.expressions import compile_expression
from kwok.kubelet.usage.resourceusage import ResourceUsages
from kwok.kubelet.usage.source import Obj

log = logging.getLogger("kwok.kubelet.usage")

Variables = dict[str, Any]
LABEL_CACHE_LIMIT = 200_000


class EvaluationError(ValueError):
    """One metric could not be evaluated for one object (logged; the series is left out)."""


def scopes(dimension: str, node: Obj, pods: Iterable[Obj]) -> Iterator[Variables]:
    """The variables of each series of a metric of this dimension."""
    if dimension in ("", "node"):
        yield {"node": node}
        return
    for pod in pods:
        if dimension == "pod":
            yield {"node": node, "pod": pod}
            continue
        for container in (pod.get("spec") or {}).get("containers") or []:
            yield {"node": node, "pod": pod, "container": container}


class MetricEvaluator:
    """Turns Metric specs into metric families for a node, caching what cannot change."""

    def __init__(self, usages: ResourceUsages) -> None:
        self.usages = usages
        self._labels: dict[tuple[Any, ...], Labels] = {}
        self._reported: set[str] = set()

    def families(self, metrics: Sequence[Mapping[str, Any]], node: Obj, pods: Sequence[Obj]) -> list[Family]:
        out: dict[str, Family] = {}
        for spec in metrics:
            name = str(spec.get("name") or "")
            family = out.setdefault(name, Family(name, str(spec.get("help") or ""), str(spec.get("kind") or "gauge")))
            for variables in scopes(str(spec.get("dimension") or "node"), node, pods):
                try:
                    labels = self._labels_of(spec, variables)
                    family.samples[labels] = self._sample(spec, variables)
                except EvaluationError as err:
                    self._report(f"metric {name}: {err}")
        return list(out.values())

    def _labels_of(self, spec: Mapping[str, Any], variables: Variables) -> Labels:
        sources = tuple((str(label["name"]), str(label.get("value") or "")) for label in spec.get("labels") or [])
        if not sources:
            return ()
        # Labels that observe only their objects are kept per object revision: on a warm scrape
        # they cost a dict lookup instead of an evaluation per label.
        static = all(compile_expression(source).static for _, source in sources)
        key = (sources, *_revisions(variables)) if static else None
        if key is not None and key in self._labels:
            return self._labels[key]
        labels = tuple(sorted((name, self._label(source, variables)) for name, source in sources))
        if key is not None:
            if len(self._labels) > LABEL_CACHE_LIMIT:
                self._labels.clear()
            self._labels[key] = labels
        return labels

    def _label(self, source: str, variables: Variables) -> str:
        value = self._evaluate(source, variables)
        return value if isinstance(value, str) else str(value)

    def _sample(self, spec: Mapping[str, Any], variables: Variables) -> float | Histogram:
        if spec.get("kind") == "histogram":
            return self._histogram(spec.get("buckets") or [], variables)
        return self._number(str(spec.get("value") or "0"), variables)

    def _histogram(self, buckets: Sequence[Mapping[str, Any]], variables: Variables) -> Histogram:
        shown: list[tuple[float, float]] = []
        count = total = 0.0
        for bucket in buckets:
            le = float(bucket.get("le") or 0)
            n = self._number(str(bucket.get("value") or "0"), variables)
            count += n
            total += le * n
            if not bucket.get("hidden"):
                shown.append((le, count))
        return Histogram(shown, count, total)

    def _number(self, source: str, variables: Variables) -> float:
        try:
            return as_float(self._evaluate(source, variables))
        except TypeError as err:
            raise EvaluationError(f"{source!r}: {err}") from None

    def _evaluate(self, source: str, variables: Variables) -> Any:
        try:
            return compile_expression(source).evaluate(variables, self.usages.context)
        except (ValueError, KeyError, TypeError) as err:
            raise EvaluationError(f"{source!r}: {err}") from None

    def _report(self, problem: str) -> None:
        if problem not in self._reported:
            self._reported.add(problem)
            log.warning("%s", problem)


def _revisions(variables: Variables) -> tuple[Any, ...]:
    out: list[Any] = []
    for name in ("node", "pod"):
        obj = variables.get(name)
        if obj is not None:
            meta = obj.get("metadata") or {}
            out += [meta.get("uid") or meta.get("name"), meta.get("resourceVersion")]
    container = variables.get("container")
    out.append(container.get("name") if container is not None else None)
    return tuple(out)
