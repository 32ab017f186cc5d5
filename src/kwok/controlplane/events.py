"""Recording core/v1 Events the way client-go's recorder does, without blocking the caller.

Events are queued and written by one background task; a repeat of the same (object, type,
reason, message) within the aggregation window updates `count` and `lastTimestamp` of the first
Event instead of creating another, as the EventCorrelator does. When the API server cannot keep
up, events beyond the queue size are dropped (client-go drops at 1000 too): an event is never
worth stalling a controller for.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from kwok.client import ApiError, Client
from kwok.controlplane.timefmt import rfc3339

log = logging.getLogger("kwok.controlplane.events")

MAX_QUEUED = 1000
AGGREGATION_SECONDS = 600.0
# EventSourceObjectSpamFilter: per (component, object) a bucket of 25 events refilled 1 per 5 min
SPAM_BURST = 25
SPAM_REFILL_SECONDS = 300.0


class SpamFilter:
    """client-go's token bucket per event source and involved object (time passed in)."""

    def __init__(self, burst: int = SPAM_BURST, refill_seconds: float = SPAM_REFILL_SECONDS) -> None:
        self.burst = burst
        self.refill = refill_seconds
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}

    def allow(self, component: str, obj_key: str, now: float) -> bool:
        tokens, last = self._buckets.get((component, obj_key), (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) / self.refill)
        if tokens < 1:
            self._buckets[(component, obj_key)] = (tokens, now)
            return False
        if len(self._buckets) > 65536:
            self._buckets.clear()
        self._buckets[(component, obj_key)] = (tokens - 1, now)
        return True


class EventRecorder:
    def __init__(self, client: Client, component: str, instance: str = "") -> None:
        self.component = component
        self.instance = instance or component
        self._events = client.resource("v1", "events")
        self._queue: asyncio.Queue[tuple[dict[str, Any], str, str, str, float, str]] = asyncio.Queue(MAX_QUEUED)
        self._seen: dict[tuple[str, str, str, str], tuple[str, str, int, float]] = {}
        self._task: asyncio.Task[None] | None = None
        self.spam = SpamFilter()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"events-{self.component}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def event(self, obj: dict[str, Any], type_: str, reason: str, message: str,
              kind: str | None = None, api_version: str = "v1", component: str | None = None) -> None:
        """Queue an event about `obj`; list items carry no kind, so callers name it."""
        if kind is not None:
            obj = {**obj, "kind": kind, "apiVersion": api_version}
        component = component or self.component
        meta = obj.get("metadata") or {}
        if not self.spam.allow(component, meta.get("uid") or f"{meta.get('namespace')}/{meta.get('name')}",
                               time.monotonic()):
            return
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait((obj, type_, reason, message, time.time(), component))

    def for_component(self, component: str) -> ComponentRecorder:
        return ComponentRecorder(self, component)

    async def flush(self, timeout: float = 5.0) -> None:
        """Wait (bounded) until queued events are written; for tests and clean shutdown."""
        deadline = time.monotonic() + timeout
        while not self._queue.empty() and time.monotonic() < deadline:
            await asyncio.sleep(0.02)

    async def _run(self) -> None:
        while True:
            item = await self._queue.get()
            try:
                await self._write(*item)
            except ApiError as err:
                log.debug("event not recorded: %s", err)
            except Exception:  # an event must never take the component down
                log.exception("event not recorded")

    async def _write(self, obj: dict[str, Any], type_: str, reason: str, message: str, now: float,
                     component: str) -> None:
        meta = obj.get("metadata") or {}
        namespace = meta.get("namespace") or "default"
        key = (meta.get("uid", ""), type_, reason, message)
        seen = self._seen.get(key)
        if seen is not None and now - seen[3] < AGGREGATION_SECONDS:
            name, first, count, _ = seen
            patch = {"count": count + 1, "lastTimestamp": rfc3339(now)}
            try:
                await self._events.patch(name, patch, namespace=namespace)
                self._seen[key] = (name, first, count + 1, now)
                return
            except ApiError as err:
                if not err.is_not_found:
                    raise
        body = self.build(obj, type_, reason, message, now, component)
        await self._events.create(body, namespace=namespace)
        if len(self._seen) > 4096:
            self._seen.clear()
        self._seen[key] = (body["metadata"]["name"], body["firstTimestamp"], 1, now)

    def build(self, obj: dict[str, Any], type_: str, reason: str, message: str, now: float,
              component: str = "") -> dict[str, Any]:
        component = component or self.component
        meta = obj.get("metadata") or {}
        involved = {"kind": obj.get("kind", ""), "name": meta.get("name", ""), "uid": meta.get("uid", ""),
                    "apiVersion": obj.get("apiVersion", ""), "resourceVersion": meta.get("resourceVersion", "")}
        if meta.get("namespace"):
            involved["namespace"] = meta["namespace"]
        stamp = rfc3339(now)
        return {
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": f"{meta.get('name', '')}.{int(now * 1e9):x}",
                         "namespace": meta.get("namespace") or "default"},
            "involvedObject": involved, "reason": reason, "message": message, "type": type_,
            "source": {"component": component}, "firstTimestamp": stamp, "lastTimestamp": stamp,
            "count": 1, "reportingComponent": component, "reportingInstance": self.instance,
        }


class ComponentRecorder:
    """One controller's view of a shared recorder: its events carry its component name."""

    def __init__(self, recorder: EventRecorder, component: str) -> None:
        self._recorder = recorder
        self.component = component

    def event(self, obj: dict[str, Any], type_: str, reason: str, message: str,
              kind: str | None = None, api_version: str = "v1") -> None:
        self._recorder.event(obj, type_, reason, message, kind, api_version, self.component)
