"""/metrics in Prometheus text format, with the real server's metric names for what we measure."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from kwok.apiserver.storage import Store

_BUCKETS = (0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60)


class _StorageObjects(Collector):
    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterable[GaugeMetricFamily]:
        family = GaugeMetricFamily("apiserver_storage_objects", "Number of stored objects at the time of last check "
                                   "split by kind.", labels=["resource"])
        for key in sorted(self.store.resources()):
            group, _, plural = key.partition("/")
            family.add_metric([f"{plural}.{group}" if group else plural], self.store.count(key))
        yield family


class Metrics:
    def __init__(self, store: Store) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("apiserver_request_total", "Counter of apiserver requests broken out for each verb, "
                                "dry run value, group, version, resource, scope, component, and HTTP response code.",
                                ["verb", "group", "version", "resource", "subresource", "code"], registry=self.registry)
        self.duration = Histogram("apiserver_request_duration_seconds", "Response latency distribution in seconds "
                                  "for each verb, group, version, resource, subresource.",
                                  ["verb", "group", "version", "resource", "subresource"], buckets=_BUCKETS,
                                  registry=self.registry)
        self.watchers = Gauge("apiserver_longrunning_requests", "Gauge of all active long-running apiserver requests.",
                              ["verb"], registry=self.registry)
        self.registry.register(_StorageObjects(store))
        # labels() costs several µs a call; every request observes both metrics
        self._children: dict[tuple[str, str, str, str, str, int], tuple[Any, Any]] = {}

    def watch_delta(self) -> Callable[[int], None]:
        gauge = self.watchers.labels("WATCH")

        def change(delta: int) -> None:
            gauge.inc(delta)

        return change

    def observe(self, verb: str, group: str, version: str, resource: str, subresource: str, code: int,
                seconds: float) -> None:
        key = (verb, group, version, resource, subresource, code)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (
                self.requests.labels(verb, group, version, resource, subresource, str(code)),
                self.duration.labels(verb, group, version, resource, subresource) if verb != "WATCH" else None)
        children[0].inc()
        if children[1] is not None:
            children[1].observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
