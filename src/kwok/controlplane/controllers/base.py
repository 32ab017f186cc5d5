"""What every controller shares: informers, an owner index, the event recorder, the worker loop.

A controller registers informer handlers that turn events into keys on its work queue, and
implements `sync(key)`, which reads the informer caches, decides (in a pure module) and writes
through the API. Errors requeue the key with backoff; a controller never crashes the process.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any, ClassVar

from kwok.client import ApiError, Client, Informer, object_key
from kwok.controlplane.controllers.workqueue import WorkQueue
from kwok.controlplane.events import ComponentRecorder, EventRecorder
from kwok.controlplane.informers import SharedInformers

log = logging.getLogger("kwok.controlplane.controllers")


def strip(obj: dict[str, Any]) -> dict[str, Any]:
    obj.get("metadata", {}).pop("managedFields", None)
    return obj


def controller_of(obj: dict[str, Any]) -> dict[str, Any] | None:
    for ref in obj.get("metadata", {}).get("ownerReferences") or ():
        if ref.get("controller"):
            return dict(ref)
    return None


class OwnerIndex:
    """Objects of one informer by the uid of their controlling owner (cache.Indexer by controller)."""

    def __init__(self) -> None:
        self.by_owner: dict[str, dict[str, dict[str, Any]]] = {}
        self._owner_of: dict[str, str] = {}

    def on_event(self, kind: str, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        key = object_key(obj)
        previous = self._owner_of.pop(key, None)
        if previous is not None:
            bucket = self.by_owner.get(previous)
            if bucket is not None:
                bucket.pop(key, None)
                if not bucket:
                    del self.by_owner[previous]
        if kind == "DELETED":
            return
        ref = controller_of(obj)
        if ref is not None and ref.get("uid"):
            self.by_owner.setdefault(ref["uid"], {})[key] = obj
            self._owner_of[key] = ref["uid"]

    def owned_by(self, uid: str) -> list[dict[str, Any]]:
        return list(self.by_owner.get(uid, {}).values())


class ControllerContext:
    """Shared by all controllers of one manager: one informer per resource, one recorder.

    The informers come from `shared` (the process's, when the scheduler runs alongside);
    `informers` holds those these controllers use."""

    def __init__(self, client: Client, recorder: EventRecorder, options: Any = None,
                 shared: SharedInformers | None = None) -> None:
        self.client = client
        self.recorder = recorder
        self.options = options
        self.shared = shared if shared is not None else SharedInformers(client)
        self.informers: dict[tuple[str, str], Informer] = {}
        self.owner_indexes: dict[tuple[str, str], OwnerIndex] = {}
        self.now: Callable[[], float] = time.time

    def informer(self, group_version: str, plural: str) -> Informer:
        key = (group_version, plural)
        if key not in self.informers:
            self.informers[key] = self.shared.informer(group_version, plural)
        return self.informers[key]

    def owner_index(self, group_version: str, plural: str) -> OwnerIndex:
        key = (group_version, plural)
        if key not in self.owner_indexes:
            index = self.owner_indexes[key] = OwnerIndex()
            self.informer(group_version, plural).add_handler(index.on_event)
        return self.owner_indexes[key]

    def events(self, component: str) -> ComponentRecorder:
        return self.recorder.for_component(component)


class Controller:
    name: ClassVar[str] = ""
    component: ClassVar[str] = ""
    workers: ClassVar[int] = 1

    def __init__(self, ctx: ControllerContext) -> None:
        self.ctx = ctx
        self.client = ctx.client
        self.queue = WorkQueue()
        self.events = ctx.events(self.component or f"{self.name}-controller")
        self.setup()

    def setup(self) -> None:
        """Register informer handlers."""

    def enqueue(self, obj: dict[str, Any]) -> None:
        self.queue.add(object_key(obj))

    async def sync(self, key: str) -> None:
        raise NotImplementedError

    async def run(self) -> None:
        workers = [asyncio.create_task(self._worker(), name=f"{self.name}-{i}") for i in range(self.workers)]
        try:
            await asyncio.gather(*workers)
        finally:
            for worker in workers:
                worker.cancel()
            self.queue.shutdown()

    async def _worker(self) -> None:
        while True:
            key = await self.queue.get()
            try:
                await self.sync(key)
                self.queue.forget(key)
            except ApiError as err:
                if err.is_conflict:
                    log.debug("%s: conflict syncing %s, retrying", self.name, key)
                else:
                    log.warning("%s: error syncing %s: %s", self.name, key, err.message)
                self.queue.add_rate_limited(key)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s: error syncing %s", self.name, key)
                self.queue.add_rate_limited(key)
            finally:
                self.queue.done(key)
