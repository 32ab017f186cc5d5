"""Controller: wires the kwok controllers together and runs them (KWOK's pkg/kwok/controllers).

Start-up order matters: nodes are listed before pods (a pod is simulated only on a managed
node, and its IPs come from the node's podCIDR), and all live pods are seen before anything is
allocated (their IPs are re-learned first), which the informers' list-then-dispatch guarantees.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any

import kwok
from kwok.client import ApiError, Backoff, Client
from kwok.engine.gotemplate import TemplateFunc
from kwok.engine.lifecycle import StageSet
from kwok.engine.templatefuncs import environment_funcs
from kwok.kubelet.actions import ActionRunner
from kwok.kubelet.generic import GenericController
from kwok.kubelet.leases import LeaseController
from kwok.kubelet.logonce import LogOnce
from kwok.kubelet.mapper import RESTMapper
from kwok.kubelet.metrics import Metrics
from kwok.kubelet.nodes import NodeController
from kwok.kubelet.options import KwokOptions
from kwok.kubelet.pods import PodController
from kwok.kubelet.stagesource import WatchedStages

log = logging.getLogger("kwok.kubelet")

VERSION = f"v{kwok.__version__}"
SPECIALISED = {("v1", "Node"), ("v1", "Pod")}


class Controller:
    def __init__(
        self,
        client: Client,
        options: KwokOptions,
        stages: StageSet | None,
        identity: str,
        metrics: Metrics | None = None,
        objects: list[dict[str, Any]] | None = None,
    ) -> None:
        """`stages` None means Stages are watched from the cluster (--enable-crds=Stage);
        `objects` are the other kwok.x-k8s.io documents of --config (Metric, ResourceUsage, ...)."""
        self.client = client
        self.options = options
        self.identity = identity
        self.metrics = metrics or Metrics()
        self.started = dt.datetime.now(dt.UTC)
        client.on_request = self.metrics.observe_request
        self.mapper = RESTMapper(client)
        self.runner = ActionRunner(client, self.mapper)
        self.stages = stages or StageSet(())
        self.nodes = NodeController(
            client, options, self.stages.for_resource("v1", "Node"), self.runner, self.metrics, self._env
        )
        self.pods = PodController(
            client, options, self.stages.for_resource("v1", "Pod"), self.runner, self.metrics, self.nodes, self._env
        )
        if options.node_lease_duration_seconds > 0:
            self.nodes.leases = LeaseController(
                client,
                identity,
                options.node_lease_duration_seconds,
                options.node_lease_parallelism,
                self.nodes.lease_acquired,
                self.nodes.lease_lost,
                single_node=options.manage_single_node,
            )
        self.watched = WatchedStages(client, self.update_stages) if stages is None else None
        # Logs/Exec/Attach/PortForward/Metric/... documents of --config, for the kubelet endpoints
        # (kwok.kubelet.usage.mount_kubelet_endpoints, which also watches --enable-crds kinds).
        self.objects = objects or []
        self.generic: dict[tuple[str, str], tuple[GenericController, asyncio.Task[None] | None]] = {}
        self._group: asyncio.TaskGroup | None = None
        self.ready = asyncio.Event()

    def _env(self, now: dt.datetime) -> dict[str, TemplateFunc]:
        return environment_funcs(now, self.started, VERSION)

    async def wait_for_apiserver(self) -> None:
        """As KWOK: until `list nodes limit=1` answers; keeps trying (logged once per cause)."""
        problems = LogOnce(log)
        backoff = Backoff(initial=1.0, factor=2.0, cap=30.0, jitter=0.1)
        while True:
            try:
                await self.client.resource("v1", "nodes").list(limit=1)
                return
            except ApiError as err:
                problems.warning(err.reason, "waiting for the API server at %s: %s", self.client.config.server, err)
            await asyncio.sleep(backoff.next_delay())

    async def run(self) -> None:
        await self.wait_for_apiserver()
        async with asyncio.TaskGroup() as group:
            self._group = group
            if self.watched is not None:
                group.create_task(self.watched.run())
                await self.watched.informer.wait_synced()
            else:
                self._sync_generic()
            group.create_task(self.nodes.informer.run())
            await self.nodes.informer.wait_synced()
            group.create_task(self.pods.informer.run())
            await self.pods.informer.wait_synced()
            if self.nodes.leases is not None:
                group.create_task(self.nodes.leases.run())
            group.create_task(self.nodes.player.run())
            group.create_task(self.pods.player.run())
            log.info(
                "kwok controller running: %d nodes selected, %d pods seen, %d stages",
                len(self.nodes.selected),
                len(self.pods.informer.store),
                len(self.stages.stages),
            )
            self.ready.set()

    def update_stages(self, stages: StageSet) -> None:
        """A new set of Stages (from the CRD): re-evaluate every kind whose stages changed."""
        old, self.stages = self.stages, stages
        node_lc, pod_lc = stages.for_resource("v1", "Node"), stages.for_resource("v1", "Pod")
        if node_lc.stages != old.for_resource("v1", "Node").stages:
            self.nodes.player.lifecycle = node_lc
            for name in list(self.nodes.selected):
                node = self.nodes.get(name)
                if node is not None and self.nodes.is_active(name):
                    self.nodes.player.preprocess(node)
        if pod_lc.stages != old.for_resource("v1", "Pod").stages:
            self.pods.player.lifecycle = pod_lc
            for name in list(self.pods.by_node):
                if self.nodes.is_active(name):
                    self.pods.sync_node(name)
        self._sync_generic()

    def _sync_generic(self) -> None:
        wanted = {ref for ref in self.stages.resource_refs() if ref not in SPECIALISED}
        for ref in list(self.generic):
            if ref not in wanted:
                controller, task = self.generic.pop(ref)
                if task is not None:
                    task.cancel()
                log.info("no stages left for %s %s: stopped simulating it", *ref)
        for ref in wanted:
            lifecycle = self.stages.for_resource(*ref)
            if ref in self.generic:
                controller, _ = self.generic[ref]
                if controller.lifecycle.stages != lifecycle.stages:
                    controller.set_lifecycle(lifecycle)
                continue
            controller = GenericController(
                self.client, self.mapper, ref[0], ref[1], lifecycle, self.runner, self.metrics, self._env
            )
            task = self._group.create_task(controller.run()) if self._group is not None else None
            self.generic[ref] = (controller, task)
