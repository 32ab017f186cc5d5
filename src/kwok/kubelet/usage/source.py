"""What the metrics endpoints need from the kwok controller."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

Obj = Mapping[str, Any]


class UsageSource(Protocol):
    def objects(self, kind: str) -> Sequence[Obj]:
        """Current Metric, ResourceUsage and ClusterResourceUsage objects."""
        ...

    def node(self, name: str) -> Obj | None:
        """A managed node by name (None when it is not known)."""
        ...

    def node_names(self) -> Iterable[str]:
        """The nodes this kwok manages (targets of /discovery/prometheus)."""
        ...

    def pods_on_node(self, name: str) -> Iterable[Obj]:
        """The pods bound to a node."""
        ...

    def started_containers_total(self, name: str) -> int:
        """Containers of the pods added to this node since kwok started (StartedContainersTotal)."""
        ...
