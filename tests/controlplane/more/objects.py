"""Small builders of the objects the controller logic tests feed in."""

from __future__ import annotations

from typing import Any

NOW = 1_800_000_000.0
LONG_AGO = "2020-01-01T00:00:00Z"


def make_pod(name: str, labels: dict[str, str] | None = None, ip: str | None = "10.0.0.1", ready: bool = True,
             phase: str = "Running", node: str | None = "n1", ports: list[dict[str, Any]] | None = None,
             deleting: bool = False, owner: dict[str, Any] | None = None, created: str = LONG_AGO,
             extra_labels: dict[str, str] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": "default", "uid": f"uid-{name}",
                            "labels": {**(labels or {}), **(extra_labels or {})}, "creationTimestamp": created}
    if deleting:
        meta["deletionTimestamp"] = LONG_AGO
    if owner is not None:
        meta["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": owner["kind"], "name": owner["metadata"]["name"],
                                    "uid": owner["metadata"]["uid"], "controller": True}]
    spec: dict[str, Any] = {"containers": [{"name": "c", "image": "nginx", "ports": ports or []}]}
    if node:
        spec["nodeName"] = node
    status: dict[str, Any] = {"phase": phase,
                              "conditions": [{"type": "Ready", "status": "True" if ready else "False",
                                              "lastTransitionTime": LONG_AGO}]}
    if ip:
        status["podIP"], status["podIPs"] = ip, [{"ip": ip}]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status}
