"""NodeMetrics and PodMetrics (metrics.k8s.io/v1beta1) as metrics-server writes them, and their Tables."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from kwok.api.protobuf import go_duration
from kwok.api.quantity import BINARY_SI, Quantity
from kwok.apiserver.metricsapi import GROUP, VERSION
from kwok.apiserver.metricsapi.resource import Usage

Obj = dict[str, Any]

API_VERSION = f"{GROUP}/{VERSION}"


def rfc3339(seconds: float) -> str:
    """metav1.Time: whole seconds, UTC."""
    return dt.datetime.fromtimestamp(int(seconds), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def usage_list(nanocores: int, memory: int) -> Obj:
    return {"cpu": str(Quantity.from_scaled(nanocores, -9)), "memory": str(Quantity.from_int(memory, BINARY_SI))}


def _meta(name: str, namespace: str | None, labels: Mapping[str, str] | None, now: float) -> Obj:
    meta: Obj = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    meta["creationTimestamp"] = rfc3339(now)
    if labels:
        meta["labels"] = dict(labels)
    return meta


def node_metrics(name: str, labels: Mapping[str, str] | None, usage: Usage, now: float) -> Obj:
    return {"metadata": _meta(name, None, labels, now), "timestamp": rfc3339(usage.timestamp),
            "window": _window(usage.window), "usage": usage_list(usage.nanocores, usage.memory)}


def pod_metrics(namespace: str, name: str, labels: Mapping[str, str] | None, containers: Mapping[str, Usage],
                now: float) -> Obj:
    # the earliest point of the pod's containers stands for the pod, as in metrics-server
    earliest = min(containers.values(), key=lambda u: u.timestamp)
    return {"metadata": _meta(name, namespace, labels, now), "timestamp": rfc3339(earliest.timestamp),
            "window": _window(earliest.window),
            "containers": [{"name": c, "usage": usage_list(u.nanocores, u.memory)}
                           for c, u in sorted(containers.items())]}


def _window(seconds: float) -> str:
    return go_duration(round(seconds * 1e9))


def typed(kind: str, obj: Obj) -> Obj:
    return {"kind": kind, "apiVersion": API_VERSION, **obj}


def metrics_list(kind: str, items: list[Obj]) -> Obj:
    return {"kind": f"{kind}List", "apiVersion": API_VERSION, "metadata": {}, "items": items}


# --- Tables (metrics-server's TableConvertor): Name, one column per resource, Window ---------------
def table(items: list[Obj], include_object: str | None) -> Obj:
    columns: list[Obj] | None = None
    rows: list[Obj] | None = None
    for item in items:
        usage = _total_usage(item)
        names = sorted(usage)
        if columns is None:
            columns = [{"name": "Name", "type": "string", "format": "name", "description": "Name of the resource",
                        "priority": 0}]
            columns += [{"name": n, "type": "string", "format": "quantity", "description": "", "priority": 0}
                        for n in names]
            columns.append({"name": "Window", "type": "string", "format": "duration", "description": "",
                            "priority": 0})
        row: Obj = {"cells": [item["metadata"]["name"], *(usage.get(n, "0") for n in names), item["window"]]}
        if include_object != "None":
            row["object"] = item if include_object == "Object" else _partial(item)
        rows = [*(rows or []), row]
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {}, "columnDefinitions": columns,
            "rows": rows}


def _total_usage(item: Obj) -> dict[str, str]:
    if "usage" in item:
        return dict(item["usage"])
    totals: dict[str, Quantity] = {}
    for container in item.get("containers") or []:
        for resource, text in container["usage"].items():
            value = Quantity(text)
            totals[resource] = totals[resource] + value if resource in totals else value
    return {k: str(v) for k, v in totals.items()}


def _partial(item: Obj) -> Obj:
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": item["metadata"]}
