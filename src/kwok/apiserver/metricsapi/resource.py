"""The kubelet's /metrics/resource exposition, read as metrics-server reads it, and usage rates.

A scrape gives cumulative CPU seconds and the memory working set of the node and of each
container. CPU usage is the rate between two scrapes of the same node, so metrics exist only from
the second scrape on; the window is the time between the two. As metrics-server does, a point
whose cumulative CPU or memory is still zero counts as missing, and a pod appears only when every
one of its containers has both points.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

NODE_CPU = "node_cpu_usage_seconds_total"
NODE_MEMORY = "node_memory_working_set_bytes"
CONTAINER_CPU = "container_cpu_usage_seconds_total"
CONTAINER_MEMORY = "container_memory_working_set_bytes"
_LABEL = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"')
# one sample line of a wanted series: name, labels, value, optional timestamp (milliseconds)
_SERIES = re.compile(rf"^({NODE_CPU}|{NODE_MEMORY}|{CONTAINER_CPU}|{CONTAINER_MEMORY})"
                     r"(?:\{(.*)\})?[ \t]+(\S+)(?:[ \t]+(-?\d+))?[ \t]*$", re.MULTILINE)
_CANONICAL = re.compile(r'container="([^"\\]*)",namespace="([^"\\]*)",pod="([^"\\]*)"')


@dataclass(slots=True)
class Point:
    cpu: float = 0.0        # cumulative core-seconds
    memory: float = 0.0     # working set, bytes
    time: float = 0.0       # seconds since the epoch: the sample's timestamp, else the scrape's


PodKey = tuple[str, str]    # (namespace, name)


@dataclass(slots=True)
class Scrape:
    """What one node's endpoint reported at one time."""

    time: float
    node: Point = field(default_factory=Point)
    pods: dict[PodKey, dict[str, Point]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Usage:
    nanocores: int
    memory: int             # bytes
    timestamp: float        # of the later point
    window: float           # seconds between the two points


def decode(text: str, scraped_at: float) -> Scrape:
    """The node and container series of a Prometheus text exposition; everything else is skipped."""
    scrape = Scrape(scraped_at)
    for match in _SERIES.finditer(text):
        name, labels, value_text, stamp_text = match.groups()
        try:
            value = float(value_text)
        except ValueError:
            continue
        when = int(stamp_text) / 1000 if stamp_text else scraped_at
        if name.startswith("node_"):
            _set(scrape.node, name == NODE_CPU, value, when)
            continue
        namespace, pod, container = _container_labels(labels or "")
        point = scrape.pods.setdefault((namespace, pod), {}).setdefault(container, Point())
        _set(point, name == CONTAINER_CPU, value, when)
    return scrape


def _container_labels(labels: str) -> tuple[str, str, str]:
    """(namespace, pod, container); the kubelet's sorted label order is read without the general parser."""
    canonical = _CANONICAL.fullmatch(labels)
    if canonical is not None:
        return canonical[2], canonical[3], canonical[1]
    pairs = dict(_LABEL.findall(labels))
    return pairs.get("namespace", ""), pairs.get("pod", ""), pairs.get("container", "")


def _set(point: Point, cpu: bool, value: float, when: float) -> None:
    if cpu:
        point.cpu = value
    else:
        point.memory = value
    point.time = when


def usage_between(prev: Point, last: Point) -> Usage | None:
    """The usage over the window between two points of one series; None when it cannot be told."""
    window = last.time - prev.time
    if window <= 0 or last.cpu <= 0 or last.memory <= 0 or last.cpu < prev.cpu:
        return None
    nanocores = int((last.cpu - prev.cpu) * 1e9 / window)
    return Usage(nanocores, int(last.memory), last.time, window)


def pod_usage(prev: dict[str, Point] | None, last: dict[str, Point] | None) -> dict[str, Usage] | None:
    """Usage of each container of a pod; None unless every container has two usable points."""
    if not prev or not last:
        return None
    out = {}
    for container, point in last.items():
        before = prev.get(container)
        usage = usage_between(before, point) if before is not None else None
        if usage is None:
            return None
        out[container] = usage
    return out
