"""PodController: pod stages for pods bound to active nodes, and their IP addresses.

Pods are watched once for all scheduled pods (`spec.nodeName!=`, or `spec.nodeName=<node>` for a
single node) and indexed by node, so a node that becomes ours (added, or its lease acquired) gets
its pods re-evaluated from memory instead of a LIST per node.

IPs (KWOK §1.8): from the node's `spec.podCIDRs` (one per family: dual stack), else
`spec.podCIDR`, else `--cidr`. A pod keeps the IPs it already carries (re-learned after a
restart before anything is allocated), hostNetwork pods get the node's IPs, and IPs return to
the pool when the pod is deleted.

The pod mirror (`informer.store`) keeps each pod compressed (see `compact`): read whole pods
through `pods_on_node()` / `expand()`.
"""

from __future__ import annotations

import datetime as dt
import logging
import zlib
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from kwok.client import Client, Informer, object_key
from kwok.engine.gotemplate import TemplateFunc
from kwok.engine.ipam import PodNetwork
from kwok.engine.lifecycle import Lifecycle
from kwok.kubelet.actions import ActionRunner
from kwok.kubelet.metrics import Metrics
from kwok.kubelet.mirror import strip_managed_fields
from kwok.kubelet.nodes import NodeController
from kwok.kubelet.options import KwokOptions
from kwok.kubelet.player import StagePlayer

log = logging.getLogger("kwok.kubelet.pods")


class PodController:
    def __init__(
        self,
        client: Client,
        options: KwokOptions,
        lifecycle: Lifecycle,
        runner: ActionRunner,
        metrics: Metrics,
        nodes: NodeController,
        env: Callable[[dt.datetime], dict[str, TemplateFunc]],
    ) -> None:
        self.options = options
        self.nodes = nodes
        res = client.resource("v1", "pods")
        single = options.manage_single_node
        self.informer = Informer(
            res,
            field_selector=f"spec.nodeName={single}" if single else "spec.nodeName!=",
            transform=strip_managed_fields,
            store_transform=compact,
        )
        self.informer.add_handler(self._on_event)
        self.player = StagePlayer(
            resource=res,
            api_group="v1",
            kind="Pod",
            lifecycle=lifecycle,
            parallelism=options.pod_play_stage_parallelism,
            funcs=self._funcs,
            runner=runner,
            metrics=metrics,
            typed=True,
            pack=compact,
            unpack=expand,
        )
        self.network = PodNetwork(options.cidr, options.node_ip, nodes.get)
        self._ip_funcs = self.network.template_funcs()
        self.by_node: dict[str, set[str]] = {}
        self._env = env
        nodes.on_node_active = self.sync_node
        nodes.on_node_inactive = self.forget_node
        metrics.track_managed("Pod", self._count_active)
        metrics.track_queue("Pod", lambda: len(self.player.queue))

    def _count_active(self) -> int:
        return sum(len(keys) for node, keys in self.by_node.items() if self.nodes.is_active(node))

    # -- events -------------------------------------------------------------------------------

    def _on_event(self, kind: str, pod: dict[str, Any], old: dict[str, Any] | None) -> None:
        key = object_key(pod)
        node = (pod.get("spec") or {}).get("nodeName") or ""
        if kind == "DELETED":
            pod = expand(pod)  # from a re-list, the stored (compact) form
            self._deleted(key, (pod.get("spec") or {}).get("nodeName") or "", pod)
            return
        self.by_node.setdefault(node, set()).add(key)
        if not self.nodes.is_active(node):
            return
        if kind == "ADDED":
            self.network.observe_pod(pod)
        self.player.preprocess(pod, packed=self.informer.store.get(key))  # the mirror's form of `pod`

    def _deleted(self, key: str, node: str, pod: dict[str, Any]) -> None:
        keys = self.by_node.get(node)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self.by_node[node]
        self.player.forget(key)
        self.network.forget_pod(pod)

    def sync_node(self, node: str) -> None:
        """The node became ours: evaluate its pods (as KWOK's re-list of pods on the node)."""
        for key in list(self.by_node.get(node, ())):
            stored = self.informer.store.get(key)
            if stored is not None:
                pod = expand(stored)
                self.network.observe_pod(pod)
                self.player.preprocess(pod, packed=stored)

    def pods_on_node(self, node: str) -> list[dict[str, Any]]:
        """The pods bound to `node` (decoded from the mirror: for metrics scrapes, not hot paths)."""
        if not self.nodes.is_active(node):
            return []
        store = self.informer.store
        return [expand(store[key]) for key in sorted(self.by_node.get(node, ())) if key in store]

    def forget_node(self, node: str) -> None:
        for key in self.by_node.get(node, ()):
            self.player.forget(key)

    def _funcs(self, pod: dict[str, Any], now: dt.datetime) -> Mapping[str, TemplateFunc]:
        funcs = self._env(now)
        funcs.update(self._ip_funcs)
        return funcs


def compact(pod: dict[str, Any]) -> dict[str, Any]:
    """What the pod mirror keeps: the pod's identity as plain strings, and the whole pod compressed.

    At 100,000 pods every kilobyte counts: a Running pod is ~7.5 KB as nested dicts, ~1.5 KB
    this way. Nothing on the hot path reads a stored pod (events carry whole pods; the mirror is
    read when a node becomes ours, the Stages change or a metrics scrape asks for a node's pods,
    all through `expand`), and an entry without lists is no work for the cyclic garbage
    collector, which otherwise walks every container of every stored pod.
    """
    meta = pod.get("metadata") or {}
    kept: dict[str, Any] = {"metadata": {k: meta[k] for k in _KEPT_METADATA if k in meta}}
    node = (pod.get("spec") or {}).get("nodeName")
    if node:
        kept["spec"] = {"nodeName": node}
    kept[_PACKED] = zlib.compress(orjson.dumps(pod), 1)
    return kept


def expand(stored: dict[str, Any]) -> dict[str, Any]:
    """The pod `compact` was given (a pod not compacted is returned as it is)."""
    packed = stored.get(_PACKED)
    if packed is None:
        return stored
    pod: dict[str, Any] = orjson.loads(zlib.decompress(packed))
    return pod


# What the informer reads of a stored object (its key and resourceVersion).
_KEPT_METADATA = ("name", "namespace", "resourceVersion")
_PACKED = "kwok.x-k8s.io/packed"  # not a field name any object can have
