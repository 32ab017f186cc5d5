"""NodeController: which nodes are ours, and playing node stages on them.

Selection (KWOK §1.5): one node by name (field selector), all nodes, nodes matching a label
selector (server side) and/or an annotation selector (client side: a node without annotations
never matches). With leases enabled a selected node is simulated only while this instance holds
its lease; acquiring it pushes the node through its stages and re-evaluates its pods.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from typing import Any

from kwok.client import Client, Informer
from kwok.engine.gotemplate import TemplateFunc
from kwok.engine.lifecycle import Lifecycle
from kwok.kubelet.actions import ActionRunner
from kwok.kubelet.leases import LeaseController
from kwok.kubelet.metrics import Metrics
from kwok.kubelet.mirror import strip_managed_fields
from kwok.kubelet.options import KwokOptions
from kwok.kubelet.player import StagePlayer

log = logging.getLogger("kwok.kubelet.nodes")


class NodeController:
    def __init__(
        self,
        client: Client,
        options: KwokOptions,
        lifecycle: Lifecycle,
        runner: ActionRunner,
        metrics: Metrics,
        env: Callable[[dt.datetime], dict[str, TemplateFunc]],
    ) -> None:
        self.options = options
        res = client.resource("v1", "nodes")
        self.informer = Informer(
            res,
            label_selector=options.manage_nodes_with_label_selector or None,
            field_selector=f"metadata.name={options.manage_single_node}" if options.manage_single_node else None,
            transform=strip_managed_fields,
        )
        self.informer.add_handler(self._on_event)
        self.player = StagePlayer(
            resource=res,
            api_group="v1",
            kind="Node",
            lifecycle=lifecycle,
            parallelism=options.node_play_stage_parallelism,
            funcs=self._funcs,
            runner=runner,
            metrics=metrics,
            typed=True,
        )
        self.selected: set[str] = set()
        self.leases: LeaseController | None = None
        self.on_node_active: Callable[[str], None] = lambda name: None
        self.on_node_inactive: Callable[[str], None] = lambda name: None
        self._annotations = options.annotation_selector
        self._env = env
        metrics.track_managed("Node", lambda: len(self.selected))
        metrics.track_queue("Node", lambda: len(self.player.queue))

    def is_active(self, name: str) -> bool:
        """Pods on this node are ours to simulate."""
        if name not in self.selected:
            return False
        return self.leases is None or self.leases.holds(name)

    def get(self, name: str) -> dict[str, Any] | None:
        return self.informer.store.get(name)

    def _is_selected(self, node: dict[str, Any]) -> bool:
        if self._annotations is None:
            return True
        annotations = node.get("metadata", {}).get("annotations")
        return bool(annotations) and self._annotations.matches(annotations)

    def _on_event(self, kind: str, node: dict[str, Any], old: dict[str, Any] | None) -> None:
        name = node["metadata"]["name"]
        if kind == "DELETED" or not self._is_selected(node):
            self._unselect(name)
            return
        fresh = name not in self.selected
        self.selected.add(name)
        if self.leases is not None:
            if fresh:
                self.leases.watch_node(node)  # simulated once the lease is ours
            if not self.leases.holds(name):
                return
        self.player.preprocess(node)
        if fresh and self.leases is None:
            self.on_node_active(name)

    def _unselect(self, name: str) -> None:
        if name not in self.selected:
            return
        self.selected.discard(name)
        self.player.forget(name)
        if self.leases is not None:
            self.leases.release(name)
        self.on_node_inactive(name)

    def lease_acquired(self, name: str) -> None:
        node = self.get(name)
        if node is not None:
            self.player.preprocess(node)
        self.on_node_active(name)

    def lease_lost(self, name: str) -> None:
        self.player.forget(name)
        self.on_node_inactive(name)

    def _funcs(self, node: dict[str, Any], now: dt.datetime) -> Mapping[str, TemplateFunc]:
        funcs = self._env(now)
        opts = self.options
        funcs.update(NodeIP=lambda: opts.node_ip, NodeName=lambda: opts.node_name, NodePort=lambda: opts.node_port)
        return funcs
