"""The controller's own Prometheus metrics (served at /metrics).

Upstream KWOK exposes only Go runtime metrics; these add what an operator of a simulated
cluster asks first: how many objects are managed, which stages play (and fail), how deep the
queues are, and how long API requests take.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.process_collector import ProcessCollector


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        self.managed = Gauge(
            "kwok_managed_objects", "Objects this controller simulates.", ["kind"], registry=self.registry
        )
        self.plays = Counter(
            "kwok_stage_plays", "Stages played, by result (ok, retry, error).", ["kind", "stage", "result"],
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "kwok_queue_depth", "Jobs pending in a stage queue (waiting for their delay or a worker).", ["kind"],
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "kwok_api_request_duration_seconds", "Latency of requests to the API server.", ["verb", "code"],
            registry=self.registry, buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        # Labelled children by label values: `labels()` validates and hashes on every call, and
        # these two are called once per request and per stage played.
        self._plays: dict[tuple[str, str, str], Any] = {}
        self._requests: dict[tuple[str, int], Any] = {}

    def stage_played(self, kind: str, stage: str, result: str) -> None:
        key = (kind, stage, result)
        child = self._plays.get(key)
        if child is None:
            child = self._plays[key] = self.plays.labels(*key)
        child.inc()

    def track_queue(self, kind: str, depth: Callable[[], float]) -> None:
        self.queue_depth.labels(kind).set_function(depth)

    def track_managed(self, kind: str, count: Callable[[], float]) -> None:
        self.managed.labels(kind).set_function(count)

    def observe_request(self, verb: str, code: int, seconds: float) -> None:
        key = (verb, code)
        child = self._requests.get(key)
        if child is None:
            child = self._requests[key] = self.request_seconds.labels(verb, str(code))
        child.observe(seconds)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
