"""The scheduler as an API client: informers feed the cache and the queue, one loop schedules.

Like kube-scheduler: pods for this scheduler's name without a node are queued; each cycle runs the
pure algorithm on the cache; the pod is *assumed* onto the chosen node at once (so the next cycle
sees the node's new usage) and bound through `pods/binding` in the background; a failed bind
forgets the assumption and retries. A pod that fits nowhere gets the PodScheduled=False condition,
a FailedScheduling event, and waits for a cluster change; preemption may evict lower-priority
pods and nominate the node.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import logging
import random
import time
from collections.abc import Iterable
from typing import Any

from prometheus_client import Counter, Gauge

from kwok.client import ApiError, Client, Informer
from kwok.controlplane.events import EventRecorder
from kwok.controlplane.informers import SharedInformers
from kwok.controlplane.scheduler import volumes
from kwok.controlplane.scheduler.conditions import failed_condition_patch, gated_condition_patch
from kwok.controlplane.scheduler.framework import Algorithm, FitError
from kwok.controlplane.scheduler.nodeinfo import Snapshot
from kwok.controlplane.scheduler.pdb import DisruptionBudgets
from kwok.controlplane.scheduler.podinfo import PodInfo, pod_info
from kwok.controlplane.scheduler.preemption import Candidate, preempt
from kwok.controlplane.scheduler.queue import SchedulingQueue

log = logging.getLogger("kwok.controlplane.scheduler")

# kube-scheduler's metric names, so existing dashboards read them
ATTEMPTS = Counter("scheduler_schedule_attempts_total",
                   "Number of attempts to schedule pods, by the result.", ["result", "profile"])
PENDING = Gauge("scheduler_pending_pods", "Number of pending pods, by the queue type.", ["queue"])
PREEMPTION_VICTIMS = Counter("scheduler_preemption_victims", "Number of selected preemption victims")

DEFAULT_SCHEDULER_NAME = "default-scheduler"
BIND_TIMEOUT_SECONDS = 600.0  # VolumeBinding's bindTimeoutSeconds
TERMINAL_PHASES = ("Succeeded", "Failed")


class Scheduler:
    """`informers`: the process's shared informers (`kwok control-plane`); by default its own."""

    def __init__(self, client: Client, scheduler_names: Iterable[str] = (DEFAULT_SCHEDULER_NAME,),
                 rng: random.Random | None = None, bind_concurrency: int = 64,
                 percentage_of_nodes_to_score: int = 0, informers: SharedInformers | None = None) -> None:
        self.client = client
        self._owns_informers = informers is None
        self.shared = informers if informers is not None else SharedInformers(client)
        self.names = frozenset(scheduler_names)
        self.snapshot = Snapshot()
        self.algorithm = Algorithm(self.snapshot, rng or random.Random(), percentage_of_nodes_to_score)
        self.queue = SchedulingQueue()
        self.pods = client.resource("v1", "pods")
        self.recorder = EventRecorder(client, next(iter(sorted(self.names))))
        self.budgets = DisruptionBudgets()
        self._assumed: set[str] = set()
        self._nominated: dict[str, dict[str, PodInfo]] = {}
        self._wake = asyncio.Event()
        self._binds = asyncio.Semaphore(bind_concurrency)
        self._tasks: set[asyncio.Task[Any]] = set()
        self.informers: dict[str, Informer] = {
            "nodes": self.shared.informer("v1", "nodes"),
            "pods": self.shared.informer("v1", "pods"),
            "namespaces": self.shared.informer("v1", "namespaces"),
            "pdbs": self.shared.informer("policy/v1", "poddisruptionbudgets"),
            "pvcs": self.shared.informer("v1", "persistentvolumeclaims"),
            "pvs": self.shared.informer("v1", "persistentvolumes"),
            "storageclasses": self.shared.informer("storage.k8s.io/v1", "storageclasses"),
        }
        catalog = self.algorithm.volumes
        for name, store in (("pvcs", catalog.claims), ("pvs", catalog.volumes), ("storageclasses", catalog.classes)):
            self.informers[name].add_handler(self._volume_handler(store))
        self.informers["nodes"].add_handler(self.on_node)
        self.informers["pods"].add_handler(self.on_pod)
        self.informers["namespaces"].add_handler(self.on_namespace)
        self.informers["pdbs"].add_handler(self.budgets.on_event)
        self.scheduled = 0
        self.attempts = 0

    @property
    def synced(self) -> bool:
        return all(i.has_synced for i in self.informers.values())

    # --- informer handlers -------------------------------------------------------------

    def on_node(self, kind: str, node: dict[str, Any], old: dict[str, Any] | None) -> None:
        name, before = node["metadata"]["name"], self.snapshot.generation
        if kind == "DELETED":
            self.snapshot.remove_node(name)
            self.algorithm.node_changed(name, before)
            return
        self.snapshot.set_node(node)
        self.algorithm.node_changed(name, before)
        if old is None or _placement_changed(old, node):
            self._cluster_changed()

    def _remove_pod(self, key: str) -> None:
        node, before = self.snapshot.pod_node.get(key), self.snapshot.generation
        self.snapshot.remove_pod(key)
        if node is not None:
            self.algorithm.node_changed(node, before)

    def _place(self, info: PodInfo, node: str) -> None:
        """A pod bound (by anyone) to `node`, into the cache."""
        previous, before = self.snapshot.pod_node.get(info.key), self.snapshot.generation
        self.snapshot.add_pod(info, node)
        if previous is None or previous == node:  # a pod moved between nodes changed two: rebuild
            self.algorithm.node_changed(node, before)

    def _volume_handler(self, store: dict[str, dict[str, Any]]) -> Any:
        def on_event(kind: str, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
            meta = obj["metadata"]
            key = f"{meta['namespace']}/{meta['name']}" if meta.get("namespace") else meta["name"]
            if kind == "DELETED":
                store.pop(key, None)
            else:
                store[key] = obj
            self._cluster_changed()
        return on_event

    def on_namespace(self, kind: str, ns: dict[str, Any], old: dict[str, Any] | None) -> None:
        name = ns["metadata"]["name"]
        if kind == "DELETED":
            self.snapshot.namespace_labels.pop(name, None)
        else:
            self.snapshot.namespace_labels[name] = ns["metadata"].get("labels") or {}

    def on_pod(self, kind: str, pod: dict[str, Any], old: dict[str, Any] | None) -> None:
        meta, spec = pod["metadata"], pod.get("spec") or {}
        key = f"{meta.get('namespace', '')}/{meta['name']}"
        self._forget_nominated(key)
        if kind == "DELETED":
            self.queue.delete(key)
            self._assumed.discard(key)
            if key in self.snapshot.pod_node:
                self._remove_pod(key)
                self._cluster_changed()
            return
        node = spec.get("nodeName")
        if node and self._refresh_in_place(key, node, pod):
            return
        if node:
            self.queue.delete(key)
            self._assumed.discard(key)
            if (pod.get("status") or {}).get("phase") in TERMINAL_PHASES:
                if key in self.snapshot.pod_node:
                    self._remove_pod(key)
                    self._cluster_changed()
            else:
                self._place(pod_info(pod), node)
            return
        if spec.get("schedulerName", DEFAULT_SCHEDULER_NAME) not in self.names or key in self._assumed:
            return
        if meta.get("deletionTimestamp") or (pod.get("status") or {}).get("phase") in TERMINAL_PHASES:
            self.queue.delete(key)
            return
        if spec.get("schedulingGates"):
            self.queue.delete(key)
            self._spawn(self._mark_gated(pod))
            return
        info = pod_info(pod)
        nominated = (pod.get("status") or {}).get("nominatedNodeName")
        if nominated:
            self._nominated.setdefault(nominated, {})[key] = info
        self.queue.add(info, time.monotonic())
        self._wake.set()

    def _refresh_in_place(self, key: str, node: str, pod: dict[str, Any]) -> bool:
        """A pod already placed on `node` as it is now, only its status changed (kwok's stages), or
        the watch confirming a binding of ours: keep its PodInfo, only swap the object.
        Recomputing requests for each of 100,000 pods' status changes would dominate the loop."""
        if (pod.get("status") or {}).get("phase") in TERMINAL_PHASES:
            return False
        node_info = self.snapshot.nodes.get(node)
        existing = node_info.pods.get(key) if node_info is not None else None
        if existing is None:
            return False
        meta, placed = pod["metadata"], existing.pod
        if (placed.get("spec") != pod.get("spec") or placed["metadata"].get("labels") != meta.get("labels")
                or placed["metadata"].get("deletionTimestamp") != meta.get("deletionTimestamp")):
            return False
        existing.pod = pod
        self._assumed.discard(key)
        return True

    def _forget_nominated(self, key: str) -> None:
        if self._nominated:
            for pods in self._nominated.values():
                pods.pop(key, None)

    def _cluster_changed(self) -> None:
        self.queue.move_all(time.monotonic())
        self._wake.set()

    # --- the scheduling loop --------------------------------------------------------------

    async def run(self) -> None:
        self.shared.start()
        self.recorder.start()
        for informer in self.informers.values():
            await informer.wait_synced()
        log.info("scheduler caches synced: %d nodes, %d pending pods", len(self.snapshot.nodes), len(self.queue))
        try:
            await self._loop()
        finally:
            await self.stop()

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._owns_informers:
            await self.shared.stop()
        await self.recorder.stop()

    async def _loop(self) -> None:
        batch = 0
        while True:
            info = self.queue.pop(time.monotonic())
            if info is None:
                self._wake.clear()
                delay = self.queue.next_wakeup(time.monotonic())
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=delay if delay is not None else 60.0)
                except TimeoutError:
                    pass
                continue
            self.schedule_one(info)
            batch += 1
            if batch % 16 == 0:
                await asyncio.sleep(0)  # let informers and binders run

    def schedule_one(self, info: PodInfo) -> None:
        self.attempts += 1
        nominated = {n: list(p.values()) for n, p in self._nominated.items() if p}
        result = self.algorithm.schedule(info, nominated)
        profile = info.spec.get("schedulerName", DEFAULT_SCHEDULER_NAME)
        PENDING.labels("active").set(len(self.queue))
        if isinstance(result, str):
            ATTEMPTS.labels("scheduled", profile).inc()
            self._assume(info, result)
            return
        ATTEMPTS.labels("unschedulable", profile).inc()
        self._failed(info, result, nominated)

    def _assume(self, info: PodInfo, node: str) -> None:
        bound = copy.copy(info.pod)
        bound["spec"] = {**info.spec, "nodeName": node}
        # nothing pod_info derives depends on the node: the same facts, the placed object
        self.algorithm.assume(dataclasses.replace(info, pod=bound), node)
        self.queue.done(info.key)
        self._assumed.add(info.key)
        self._spawn(self._bind(info, node))

    async def _bind(self, info: PodInfo, node: str) -> None:
        body = {"apiVersion": "v1", "kind": "Binding",
                "metadata": {"name": info.name, "namespace": info.namespace, "uid": info.uid},
                "target": {"apiVersion": "v1", "kind": "Node", "name": node}}
        async with self._binds:
            try:
                await self._post_binding(info, body)
            except ApiError as err:
                self._bind_failed(info, node, err)
                return
        self.scheduled += 1
        self.recorder.event(info.pod, "Normal", "Scheduled",
                            f"Successfully assigned {info.namespace}/{info.name} to {node}", kind="Pod",
                            component=_profile(info))

    async def _post_binding(self, info: PodInfo, body: dict[str, Any]) -> None:
        await self._provision_volumes(info, body["target"]["name"])
        await self.pods.create(body, info.namespace, subresource="binding")

    async def _provision_volumes(self, info: PodInfo, node: str) -> None:
        """PreBind of VolumeBinding: ask for WaitForFirstConsumer claims on `node`, wait till bound."""
        state = volumes.pre_filter(info, self.algorithm.volumes) if volumes.claim_names(info) else None
        if not isinstance(state, volumes.VolumeState) or not state.to_provision:
            return
        claims = self.client.resource("v1", "persistentvolumeclaims")
        for claim in state.to_provision:
            if (claim["metadata"].get("annotations") or {}).get(volumes.SELECTED_NODE) != node:
                await claims.patch(claim["metadata"]["name"],
                                   {"metadata": {"annotations": {volumes.SELECTED_NODE: node}}},
                                   namespace=info.namespace)
        deadline = time.monotonic() + BIND_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            pending = [c for c in state.to_provision if (self.algorithm.volumes.claims.get(
                f"{info.namespace}/{c['metadata']['name']}", {}).get("status") or {}).get("phase") != "Bound"]
            if not pending:
                return
            await asyncio.sleep(0.1)
        raise ApiError(504, "Timeout", "binding volumes: context deadline exceeded", {})

    def _bind_failed(self, info: PodInfo, node: str, err: ApiError) -> None:
        self._assumed.discard(info.key)
        if self.snapshot.pod_node.get(info.key) == node:
            self._remove_pod(info.key)
        if err.is_not_found or err.is_conflict:
            log.info("binding %s to %s dropped: %s", info.key, node, err.message)
            return  # the pod is gone, or was bound/changed meanwhile: its watch event decides
        log.warning("binding %s to %s failed: %s; retrying", info.key, node, err.message)
        ATTEMPTS.labels("error", info.spec.get("schedulerName", DEFAULT_SCHEDULER_NAME)).inc()
        self.queue.add(info, time.monotonic())
        self.queue.error(info.key, time.monotonic())
        self._wake.set()

    def _failed(self, info: PodInfo, error: FitError, nominated: dict[str, list[PodInfo]]) -> None:
        nominate: str | None = None
        if error.num_nodes and error.statuses:
            state = self.algorithm.pre_filter(info, nominated)
            outcome = preempt(info, self.snapshot, state, error, self.budgets.violated_by)
            if outcome.candidate is not None:
                nominate = outcome.candidate.node
                self._preempt(info, outcome.candidate)
            else:
                error.post_filter_msg = outcome.message
        message = error.message
        log.info("unable to schedule pod %s: %s", info.key, message)
        self.recorder.event(info.pod, "Warning", "FailedScheduling", message, kind="Pod", component=_profile(info))
        self.queue.unschedulable(info.key, time.monotonic())
        patch = failed_condition_patch(info.pod, message, time.time(), nominate)
        if patch is not None:
            self._spawn(self._patch_status(info, patch))

    def _preempt(self, info: PodInfo, candidate: Candidate) -> None:
        PREEMPTION_VICTIMS.inc(len(candidate.victims))
        for victim in candidate.victims:
            self._spawn(self._evict(info, victim, candidate.node))

    async def _evict(self, preemptor: PodInfo, victim: PodInfo, node: str) -> None:
        condition = {"type": "DisruptionTarget", "status": "True", "reason": "PreemptionByScheduler",
                     "message": f"{next(iter(sorted(self.names)))}: preempting to accommodate a higher priority pod"}
        try:
            conditions = [c for c in (victim.pod.get("status") or {}).get("conditions") or ()
                          if c.get("type") != "DisruptionTarget"]
            await self.pods.patch(victim.name, {"status": {"conditions": [*conditions, condition]}},
                                  namespace=victim.namespace, subresource="status")
            await self.pods.delete(victim.name, victim.namespace)
        except ApiError as err:
            if not err.is_not_found:
                log.warning("preempting %s failed: %s", victim.key, err.message)
            return
        self.recorder.event(victim.pod, "Normal", "Preempted",
                            f"Preempted by pod {preemptor.uid} on node {node}", kind="Pod")

    async def _patch_status(self, info: PodInfo, patch: dict[str, Any]) -> None:
        try:
            await self.pods.patch(info.name, patch, namespace=info.namespace, subresource="status")
        except ApiError as err:
            if not err.is_not_found:
                log.warning("updating status of %s failed: %s", info.key, err.message)

    async def _mark_gated(self, pod: dict[str, Any]) -> None:
        patch = gated_condition_patch(pod, time.time())
        if patch is not None:
            await self._patch_status(pod_info(pod), patch)

    def _spawn(self, coro: Any, name: str | None = None) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _profile(info: PodInfo) -> str:
    """Events are reported by the profile (scheduler name) that handled the pod."""
    return str(info.spec.get("schedulerName") or DEFAULT_SCHEDULER_NAME)


def _placement_changed(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether a node update may let a waiting pod fit (labels, taints, schedulability, size)."""
    return (old["metadata"].get("labels") != new["metadata"].get("labels")
            or (old.get("spec") or {}) != (new.get("spec") or {})
            or (old.get("status") or {}).get("allocatable") != (new.get("status") or {}).get("allocatable"))
