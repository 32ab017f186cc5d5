"""KWOK configuration objects by kind: fixed from --config files, or watched from the cluster.

The debugging and metrics endpoints look the current objects up on every request, so both forms
answer `objects(kind)` from memory; a watched kind is kept current by an informer, which makes a
Logs or Exec object applied with kubectl take effect without a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

GROUP_VERSION = "kwok.x-k8s.io/v1alpha1"
PLURALS = {
    "Logs": "logs",
    "ClusterLogs": "clusterlogs",
    "Exec": "execs",
    "ClusterExec": "clusterexecs",
    "Attach": "attaches",
    "ClusterAttach": "clusterattaches",
    "PortForward": "portforwards",
    "ClusterPortForward": "clusterportforwards",
    "Metric": "metrics",
    "ResourceUsage": "resourceusages",
    "ClusterResourceUsage": "clusterresourceusages",
}


class ObjectSource(Protocol):
    def objects(self, kind: str) -> Sequence[Mapping[str, Any]]:
        """The current objects of a kwok.x-k8s.io kind, in a stable order."""
        ...


class ConfigObjects:
    """Objects from --config documents (any other kinds are ignored), plus watched kinds."""

    def __init__(self, documents: Iterable[Mapping[str, Any]] = ()) -> None:
        self._by_kind: dict[str, list[Mapping[str, Any]]] = {}
        for doc in documents:
            kind = doc.get("kind")
            if kind in PLURALS:
                self._by_kind.setdefault(str(kind), []).append(doc)
        self._watched: dict[str, Any] = {}  # kind -> Informer
        self._tasks: list[asyncio.Task[None]] = []

    def objects(self, kind: str) -> Sequence[Mapping[str, Any]]:
        informer = self._watched.get(kind)
        if informer is not None:
            return sorted(informer.store.values(), key=_order)
        return self._by_kind.get(kind, [])

    def watch(self, client: Any, kinds: Iterable[str]) -> None:
        """Read these kinds from the cluster (KWOK's --enable-crds) instead of --config."""
        from kwok.client import Informer

        for kind in kinds:
            if kind in PLURALS:
                self._watched[kind] = Informer(client.resource(GROUP_VERSION, PLURALS[kind]))

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(informer.run()) for informer in self._watched.values()]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []


def _order(obj: Mapping[str, Any]) -> tuple[str, str]:
    # KWOK walks its informer's list, which is in key order (namespace/name).
    meta = obj.get("metadata") or {}
    return (str(meta.get("namespace") or ""), str(meta.get("name") or ""))
