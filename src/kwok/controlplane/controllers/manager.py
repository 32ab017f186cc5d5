"""The controller manager: picks the controllers (`--controllers`), shares informers between
them, starts them once the caches are synced."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from kwok.client import Client
from kwok.controlplane.controllers.base import Controller, ControllerContext
from kwok.controlplane.events import EventRecorder
from kwok.controlplane.informers import SharedInformers

log = logging.getLogger("kwok.controlplane.controllers")


def _registry() -> dict[str, type[Controller]]:
    from kwok.controlplane.controllers.deployment import DeploymentController
    from kwok.controlplane.controllers.replicaset import ReplicaSetController
    from kwok.controlplane.controllers.serviceaccount import ServiceAccountController

    found: dict[str, type[Controller]] = {
        "serviceaccount": ServiceAccountController,
        "replicaset": ReplicaSetController,
        "deployment": DeploymentController,
    }
    for name, path in OPTIONAL.items():
        module, attr = path.split(":")
        try:
            found[name] = getattr(__import__(module, fromlist=[attr]), attr)
        except (ImportError, AttributeError):
            continue
    return found


# controllers in their own modules, loaded when present
OPTIONAL = {
    "garbage-collector": "kwok.controlplane.controllers.garbagecollector:GarbageCollector",
    "namespace": "kwok.controlplane.controllers.namespace:NamespaceController",
    "job": "kwok.controlplane.controllers.job:JobController",
    "node-lifecycle": "kwok.controlplane.controllers.nodelifecycle:NodeLifecycleController",
    "taint-eviction": "kwok.controlplane.controllers.nodelifecycle:TaintEvictionController",
    "endpoints": "kwok.controlplane.controllers.endpoints:EndpointsController",
    "endpointslice": "kwok.controlplane.controllers.endpoints:EndpointSliceController",
    "statefulset": "kwok.controlplane.controllers.statefulset:StatefulSetController",
    "daemonset": "kwok.controlplane.controllers.daemonset:DaemonSetController",
    "cronjob": "kwok.controlplane.controllers.cronjob:CronJobController",
    "ttl-after-finished": "kwok.controlplane.controllers.ttlafterfinished:TTLAfterFinishedController",
    "disruption": "kwok.controlplane.controllers.disruption:DisruptionController",
    "resourcequota": "kwok.controlplane.controllers.resourcequota:ResourceQuotaController",
    "pod-garbage-collector": "kwok.controlplane.controllers.podgc:PodGCController",
}
# kube-controller-manager's names that exist there but have no meaning here; accepted and ignored
KNOWN_ELSEWHERE = {
    "attachdetach", "bootstrapsigner", "certificatesigningrequest-approving-controller", "clusterrole-aggregation",
    "cloud-node-lifecycle", "csrapproving", "csrcleaner", "csrsigning", "ephemeral-volume", "horizontalpodautoscaling",
    "persistentvolume-binder", "persistentvolume-expander", "pv-protection", "pvc-protection", "replicationcontroller",
    "root-ca-certificate-publisher", "route", "service", "service-lb-controller", "serviceaccount-token",
    "tokencleaner", "ttl", "nodeipam", "node-ipam", "node-route", "persistentvolume-attach-detach",
    "legacy-serviceaccount-token-cleaner", "validatingadmissionpolicy-status", "storageversion-garbage-collector",
    "service-cidr-controller", "endpointslicemirroring", "resourceclaim", "selinux-warning-controller",
    "device-taint-eviction-controller", "kube-apiserver-serving-clustertrustbundle-publisher",
    "taint-eviction-controller", "podgc", "garbagecollector", "nodelifecycle", "job-controller",
}
ALIASES = {"garbagecollector": "garbage-collector", "nodelifecycle": "node-lifecycle", "podgc": "pod-garbage-collector",
           "taint-eviction-controller": "taint-eviction", "cronjob-controller": "cronjob",
           "job-controller": "job", "endpointslice-controller": "endpointslice",
           "resourcequota-controller": "resourcequota", "ttl-after-finished-controller": "ttl-after-finished"}


def select_controllers(spec: str) -> list[str]:
    """`--controllers`: '*' = all defaults, 'name' adds, '-name' removes (kube-controller-manager rules)."""
    available = _registry()
    chosen: set[str] = set()
    items = [item.strip() for item in spec.split(",") if item.strip()]
    if not items or "*" in items:
        chosen = set(available)
    for item in items:
        if item == "*":
            continue
        negate = item.startswith("-")
        name = ALIASES.get(item.lstrip("-"), item.lstrip("-"))
        if name not in available and name not in KNOWN_ELSEWHERE:
            raise ValueError(f'"{item.lstrip("-")}" is not in the list of known controllers')
        if name in available:
            (chosen.discard if negate else chosen.add)(name)
    return sorted(chosen)


@dataclass
class ManagerOptions:
    controllers: list[str] = field(default_factory=lambda: select_controllers("*"))
    node_monitor_period: float = 5.0
    node_monitor_grace_period: float = 50.0
    node_startup_grace_period: float = 60.0
    terminated_pod_gc_threshold: int = 12500


class ControllerManager:
    """`informers`: the process's shared informers (`kwok control-plane`); by default its own."""

    def __init__(self, client: Client, options: ManagerOptions | None = None,
                 informers: SharedInformers | None = None) -> None:
        self.options = options or ManagerOptions()
        self.recorder = EventRecorder(client, "kube-controller-manager")
        self._owns_informers = informers is None
        self.ctx = ControllerContext(client, self.recorder, self.options, informers)
        available = _registry()
        self.controllers: list[Controller] = [available[name](self.ctx) for name in self.options.controllers
                                              if name in available]

    @property
    def synced(self) -> bool:
        return all(i.has_synced for i in self.ctx.informers.values())

    async def run(self) -> None:
        tasks: list[asyncio.Task[Any]] = []
        try:
            self.ctx.shared.start()
            self.recorder.start()
            for informer in self.ctx.informers.values():
                await informer.wait_synced()
            log.info("caches synced; starting controllers: %s", ", ".join(c.name for c in self.controllers))
            tasks += [asyncio.create_task(c.run(), name=c.name) for c in self.controllers]
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if self._owns_informers:
                await self.ctx.shared.stop()
            await self.recorder.stop()
