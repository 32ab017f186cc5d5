"""The kwok controller as the source of the kubelet endpoints: its caches and its config objects.

It reads the controller's node and pod caches (informers already kept for the stages, so the
endpoints cost no extra watch) and counts the containers of pods added to each node for
StartedContainersTotal. Logs/Exec/.../Metric objects come from --config documents, or from the
cluster for the kinds given to --enable-crds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from kwok.kubelet.debug.objects import ConfigObjects
from kwok.kubelet.usage.source import Obj


class ControllerSource:
    def __init__(self, controller: Any, documents: Iterable[Mapping[str, Any]] | ConfigObjects = ()) -> None:
        self.controller = controller
        self.config = documents if isinstance(documents, ConfigObjects) else ConfigObjects(documents)
        watched = list(getattr(controller.options, "enable_crds", ()) or ())
        if watched:
            self.config.watch(controller.client, watched)
        self._started: dict[str, int] = {}
        controller.pods.informer.add_handler(self._count_started)

    def objects(self, kind: str) -> Sequence[Obj]:
        return self.config.objects(kind)

    def node(self, name: str) -> Obj | None:
        node: Obj | None = self.controller.nodes.get(name)
        return node

    def node_names(self) -> Iterable[str]:
        nodes = self.controller.nodes
        return [name for name in nodes.selected if nodes.is_active(name)]

    def pods_on_node(self, name: str) -> Iterable[Obj]:
        pods: Iterable[Obj] = self.controller.pods.pods_on_node(name)
        return pods

    def started_containers_total(self, name: str) -> int:
        return self._started.get(name, 0)

    def _count_started(self, kind: str, pod: dict[str, Any], old: dict[str, Any] | None) -> None:
        if kind != "ADDED":
            return
        node = (pod.get("spec") or {}).get("nodeName")
        if node:
            containers = (pod.get("spec") or {}).get("containers") or []
            self._started[node] = self._started.get(node, 0) + len(containers)
