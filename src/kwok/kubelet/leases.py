"""Node leases in kube-node-lease, held the way a kubelet holds them (KWOK's NodeLeaseController).

A lease is taken when it has no holder, is already ours, or its holder let it expire
(renewTime + leaseDurationSeconds < now); taking over from someone else bumps leaseTransitions.
A held lease is renewed every duration/4 (+4 % jitter); a lease held by another instance is
looked at again when it could expire. Only nodes whose lease this instance holds are simulated,
which lets several kwok processes share one cluster: when one stops, another takes its nodes
over once their leases expire.

Cost per renewal (5,000 nodes at the default 40 s is 500 renewals a second, for ever): one PUT
of the lease as the informer (or our own last write) has it, managedFields stripped - the
server keeps its record of them - and no GET. The leases of the nodes there at start (a restart
with thousands of nodes) are taken in one burst; each is first renewed after half to all of the
interval, so that they do not renew in bursts ever after. Nodes that come later arrive spread
already and keep KWOK's schedule exactly. Like the stage players, the N workers
(--node-lease-parallelism) hand each sync to its own task and take the next lease, with up to
N * PIPELINE_DEPTH requests in flight, one at a time per lease: taking 5,000 leases is then
bound by the API server, not by four round trips at a time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
from collections.abc import Callable
from typing import Any

from kwok.client import ApiError, Client, Informer
from kwok.kubelet.delayqueue import DelayingQueue
from kwok.kubelet.logonce import LogOnce
from kwok.kubelet.mirror import strip_managed_fields
from kwok.kubelet.player import PIPELINE_DEPTH, utcnow

log = logging.getLogger("kwok.kubelet.leases")

NAMESPACE = "kube-node-lease"


def micro_time(when: dt.datetime) -> str:
    """RFC 3339 with microseconds in UTC (metav1.MicroTime), e.g. 2026-01-02T03:04:05.000006Z."""
    return when.astimezone(dt.UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_time(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        return None


class LeaseController:
    def __init__(
        self,
        client: Client,
        identity: str,
        duration_seconds: int,
        parallelism: int,
        on_acquired: Callable[[str], None],
        on_lost: Callable[[str], None],
        single_node: str = "",
        clock: Callable[[], dt.datetime] = utcnow,
        rng: random.Random | None = None,
    ) -> None:
        self.identity = identity
        self.duration = duration_seconds
        self.renew_interval = duration_seconds / 4
        self.parallelism = parallelism
        self.res = client.resource("coordination.k8s.io/v1", "leases")
        field_selector = f"metadata.name={single_node}" if single_node else None
        self.informer = Informer(
            self.res, namespace=NAMESPACE, field_selector=field_selector, transform=strip_managed_fields
        )
        self.queue: DelayingQueue[str] = DelayingQueue()
        self.held: set[str] = set()
        self._syncing: set[str] = set()  # leases with a request in flight
        self._spread: set[str] = set()  # nodes there at start, whose first renewal is spread
        self._nodes: dict[str, str] = {}  # node name -> uid (for the ownerReference)
        self._mine: dict[str, dict[str, Any]] = {}  # our last write per lease (fresher than the watch)
        self._on_acquired = on_acquired
        self._on_lost = on_lost
        self._clock = clock
        self._rng = rng or random.Random()
        self._problems = LogOnce(log)

    def holds(self, node: str) -> bool:
        return node in self.held

    def watch_node(self, node: dict[str, Any]) -> None:
        meta = node["metadata"]
        self._nodes[meta["name"]] = meta.get("uid", "")
        if self.queue.pending(meta["name"]) is None and meta["name"] not in self._syncing:
            self.queue.add(meta["name"], meta["name"])

    def release(self, name: str) -> None:
        """The node is gone or no longer ours to manage: stop renewing (the lease then expires)."""
        self._nodes.pop(name, None)
        self._mine.pop(name, None)
        self._spread.discard(name)
        self.queue.cancel(name)
        self.held.discard(name)

    async def run(self) -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(self.informer.run())
            await self.informer.wait_synced()
            self._spread = set(self._nodes)
            in_flight = asyncio.Semaphore(self.parallelism * PIPELINE_DEPTH)
            for _ in range(self.parallelism):
                group.create_task(self._worker(group, in_flight))

    async def _worker(self, group: asyncio.TaskGroup, in_flight: asyncio.Semaphore) -> None:
        while True:
            _, name = await self.queue.get()
            await in_flight.acquire()
            self._syncing.add(name)
            task = group.create_task(self._sync_and_requeue(name))
            task.add_done_callback(lambda _: in_flight.release())

    async def _sync_and_requeue(self, name: str) -> None:
        try:
            delay = await self._sync(name)
        except Exception:
            log.exception("lease %s: sync failed", name)
            delay = 1.0
        finally:
            self._syncing.discard(name)
        if delay is not None and name in self._nodes and self.queue.pending(name) is None:
            self.queue.add(name, name, delay)

    async def _sync(self, name: str) -> float | None:
        if name not in self._nodes:
            return None
        now = self._clock()
        try:
            lease = await self._try_acquire(name, now)
        except ApiError as err:
            self._problems.warning(("lease", err.status, err.reason), "lease %s/%s: %s", NAMESPACE, name, err)
            if err.is_conflict:
                self._mine.pop(name, None)
            return 1.0 if (err.is_not_found or err.is_conflict) else self.renew_interval / 2
        self._problems.resolved(("lease", 0, "ConnectionError"))
        held = (lease.get("spec") or {}).get("holderIdentity") == self.identity
        taken = held and name not in self.held
        self._transition(name, held)
        if taken and name in self._spread:
            self._spread.discard(name)
            return self.renew_interval * (0.5 + 0.5 * self._rng.random())  # see the module doc
        if held:
            return self.renew_interval * (1 + 0.04 * self._rng.random())
        return max(1.0, min(self.renew_interval, _seconds_to_expiry(lease, now)))

    def _transition(self, name: str, held: bool) -> None:
        if held and name not in self.held:
            self.held.add(name)
            log.info("acquired lease of node %s", name)
            self._on_acquired(name)
        elif not held and name in self.held:
            self.held.discard(name)
            log.warning("lost lease of node %s to another holder", name)
            self._on_lost(name)

    async def _try_acquire(self, name: str, now: dt.datetime) -> dict[str, Any]:
        current = self._current(name)
        if current is None:
            try:
                lease = await self.res.create(self._new_lease(name, now), namespace=NAMESPACE)
            except ApiError as err:
                if not err.is_already_exists:
                    raise
                lease = await self.res.get(name, namespace=NAMESPACE)
                return await self._try_acquire_existing(name, lease, now)
            self._mine[name] = lease = strip_managed_fields(lease)
            return lease
        return await self._try_acquire_existing(name, current, now)

    async def _try_acquire_existing(self, name: str, lease: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
        spec = lease.get("spec") or {}
        holder = spec.get("holderIdentity") or ""
        if holder and holder != self.identity and _seconds_to_expiry(lease, now) >= 0:
            return lease
        updated = self._renewed(name, lease, now, taking_over=holder != self.identity)  # incl. no holder
        lease = await self.res.update(updated, namespace=NAMESPACE)
        self._mine[name] = lease = strip_managed_fields(lease)
        return lease

    def _current(self, name: str) -> dict[str, Any] | None:
        seen = self.informer.store.get(f"{NAMESPACE}/{name}")
        mine = self._mine.get(name)
        if mine is None:
            return seen
        if seen is None:
            return mine
        return seen if _rv_int(seen) > _rv_int(mine) else mine

    def _new_lease(self, name: str, now: dt.datetime) -> dict[str, Any]:
        stamp = micro_time(now)
        return {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": name, "namespace": NAMESPACE, "ownerReferences": [self._owner(name)]},
            "spec": {
                "holderIdentity": self.identity,
                "leaseDurationSeconds": self.duration,
                "acquireTime": stamp,
                "renewTime": stamp,
            },
        }

    def _renewed(self, name: str, lease: dict[str, Any], now: dt.datetime, taking_over: bool) -> dict[str, Any]:
        meta = dict(lease.get("metadata") or {})
        spec = dict(lease.get("spec") or {})
        if not meta.get("ownerReferences"):
            meta["ownerReferences"] = [self._owner(name)]
        stamp = micro_time(now)
        spec.update(holderIdentity=self.identity, leaseDurationSeconds=self.duration, renewTime=stamp)
        if taking_over:
            spec["acquireTime"] = stamp
            if (lease.get("spec") or {}).get("holderIdentity"):  # a transition, not a first holder
                spec["leaseTransitions"] = int(spec.get("leaseTransitions") or 0) + 1
        return {**lease, "metadata": meta, "spec": spec}

    def _owner(self, name: str) -> dict[str, Any]:
        return {"apiVersion": "v1", "kind": "Node", "name": name, "uid": self._nodes.get(name, "")}


def _seconds_to_expiry(lease: dict[str, Any], now: dt.datetime) -> float:
    spec = lease.get("spec") or {}
    renewed = parse_time(spec.get("renewTime"))
    if renewed is None:
        return -1.0
    return (renewed - now).total_seconds() + float(spec.get("leaseDurationSeconds") or 0)


def _rv_int(obj: dict[str, Any]) -> int:
    try:
        return int((obj.get("metadata") or {}).get("resourceVersion") or 0)
    except ValueError:
        return 0
