"""Objects a real kube-apiserver creates at start-up when they are missing.

The system namespaces (its SystemNamespaces controller) and the two system PriorityClasses (the
scheduling post-start hook). They go through the normal create flow, so strategies default them.
"""

from __future__ import annotations

from typing import Any

from kwok.api import errors
from kwok.apiserver.catalog import Catalog
from kwok.apiserver.flow import Flow, now_utc, rfc3339
from kwok.apiserver.registry import RequestContext

Obj = dict[str, Any]

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
SYSTEM_PRIORITY_CLASSES = (("system-node-critical", 2000001000), ("system-cluster-critical", 2000000000))


def _objects() -> list[tuple[str, str, str, Obj]]:
    out: list[tuple[str, str, str, Obj]] = [
        ("", "v1", "namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
        for name in SYSTEM_NAMESPACES]
    for name, value in SYSTEM_PRIORITY_CLASSES:
        out.append(("scheduling.k8s.io", "v1", "priorityclasses", {
            "apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": name},
            "value": value, "description": "Used for system critical pods that must not be moved from their "
                                           "current node." if name == "system-node-critical" else
                                           "Used for system critical pods that must run in the cluster, but can "
                                           "be moved to another node if necessary."}))
    return out


async def ensure_system_objects(flow: Flow, catalog: Catalog) -> int:
    """Create what is missing; returns how many objects were created."""
    created = 0
    for group, version, plural, obj in _objects():
        served = catalog.get(group, version, plural)
        if served is None or flow.store.get(served.key, "", obj["metadata"]["name"]) is not None:
            continue
        ctx = RequestContext(user="system:apiserver", groups=("system:masters",), now=rfc3339(now_utc()))
        try:
            await flow.create(served, obj, ctx)
            created += 1
        except errors.ApiError:
            continue
    return created
