"""Leader election through a coordination.k8s.io Lease, as client-go's leaderelection does.

A candidate takes the Lease when it is free, already its own, or expired (`renewTime +
leaseDurationSeconds` in the past), writing with the Lease's resourceVersion so that two
candidates racing for it cannot both win. The leader renews every `retry_period`; if it cannot
renew for `renew_deadline` it has lost the lease and stops acting (the process exits, like
kube-controller-manager). On a clean stop it releases the lease so a standby takes over at once.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
import uuid
from dataclasses import dataclass
from typing import Any

from kwok.client import ApiError, Client
from kwok.controlplane.timefmt import micro_time, parse_time

log = logging.getLogger("kwok.controlplane.leaderelection")


@dataclass
class LeaderElectionConfig:
    name: str
    namespace: str = "kube-system"
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0
    identity: str = ""

    def __post_init__(self) -> None:
        if not self.identity:
            self.identity = f"{socket.gethostname()}_{uuid.uuid4()}"


def may_acquire(lease: dict[str, Any] | None, identity: str, now: float) -> bool:
    """Whether `identity` may take or keep `lease` at time `now` (pure)."""
    if lease is None:
        return True
    spec = lease.get("spec") or {}
    holder = spec.get("holderIdentity") or ""
    if not holder or holder == identity:
        return True
    renewed = spec.get("renewTime") or spec.get("acquireTime")
    if not renewed:
        return True
    return parse_time(renewed) + float(spec.get("leaseDurationSeconds") or 0) < now


def desired_lease(lease: dict[str, Any] | None, cfg: LeaderElectionConfig, now: float) -> dict[str, Any]:
    """The Lease as the leader writes it (pure): same holder keeps acquireTime and transitions."""
    spec = dict((lease or {}).get("spec") or {})
    stamp = micro_time(now)
    if spec.get("holderIdentity") != cfg.identity:
        spec["acquireTime"] = stamp
        # as client-go: any change of holder (also after a release) is a transition
        spec["leaseTransitions"] = int(spec.get("leaseTransitions") or 0) + (1 if lease is not None else 0)
    spec.update(holderIdentity=cfg.identity, leaseDurationSeconds=int(cfg.lease_duration), renewTime=stamp)
    meta = {"name": cfg.name, "namespace": cfg.namespace}
    if lease is not None:
        meta["resourceVersion"] = lease["metadata"].get("resourceVersion", "")
    return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": meta, "spec": spec}


class LeaderElector:
    def __init__(self, client: Client, cfg: LeaderElectionConfig) -> None:
        self.cfg = cfg
        self.leases = client.resource("coordination.k8s.io/v1", "leases")
        self.is_leader = False

    async def _try(self) -> bool:
        try:
            lease = await self.leases.get(self.cfg.name, self.cfg.namespace)
        except ApiError as err:
            if not err.is_not_found:
                raise
            lease = None
        if not may_acquire(lease, self.cfg.identity, time.time()):
            return False
        body = desired_lease(lease, self.cfg, time.time())
        try:
            if lease is None:
                await self.leases.create(body, self.cfg.namespace)
            else:
                await self.leases.update(body, self.cfg.namespace)
        except ApiError as err:
            if err.is_conflict or err.is_already_exists:
                return False
            raise
        return True

    async def acquire(self) -> None:
        log.info("attempting to acquire leader lease %s/%s...", self.cfg.namespace, self.cfg.name)
        while True:
            try:
                if await self._try():
                    break
            except ApiError as err:
                log.warning("error retrieving resource lock %s/%s: %s", self.cfg.namespace, self.cfg.name, err)
            await asyncio.sleep(self.cfg.retry_period)
        self.is_leader = True
        log.info("successfully acquired lease %s/%s as %s", self.cfg.namespace, self.cfg.name, self.cfg.identity)

    async def keep(self) -> None:
        """Renew until the lease is lost; returns then (the caller stops acting)."""
        last = time.monotonic()
        while True:
            await asyncio.sleep(self.cfg.retry_period)
            try:
                if await self._try():
                    last = time.monotonic()
                    continue
            except ApiError as err:
                log.warning("failed to renew lease %s/%s: %s", self.cfg.namespace, self.cfg.name, err)
            if time.monotonic() - last > self.cfg.renew_deadline:
                self.is_leader = False
                log.error("leaderelection lost: %s/%s", self.cfg.namespace, self.cfg.name)
                return

    async def release(self) -> None:
        if not self.is_leader:
            return
        try:
            lease = await self.leases.get(self.cfg.name, self.cfg.namespace)
            if (lease.get("spec") or {}).get("holderIdentity") != self.cfg.identity:
                return
            lease["spec"].update(holderIdentity="", leaseDurationSeconds=1, renewTime=micro_time(time.time()))
            await self.leases.update(lease, self.cfg.namespace)
        except ApiError as err:
            log.warning("failed to release lease %s/%s: %s", self.cfg.namespace, self.cfg.name, err)
        self.is_leader = False
