"""Informer: a local mirror of one resource type, kept current by list + watch.

The mechanism (as client-go's reflector):
1. LIST (paged) and diff it against the store, emitting ADDED/MODIFIED/DELETED for what changed
   since the previous list (nothing is lost across a re-list);
2. WATCH from the list's resourceVersion; every event (and every BOOKMARK) advances the
   resourceVersion, so a watch that ends (server timeout, dropped connection) resumes where it
   stopped without a new LIST;
3. 410 Gone (the resourceVersion was compacted) forces step 1 again;
4. any other failure waits an exponential backoff with jitter, and is logged once per cause
   rather than once per attempt.
Handlers run in event order, on the informer's task; an async handler is awaited.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import random
from collections.abc import Callable
from typing import Any

from kwok.client._backoff import Backoff
from kwok.client._client import Resource
from kwok.client._errors import ApiError

log = logging.getLogger("kwok.client.informer")

Handler = Callable[[str, dict[str, Any], "dict[str, Any] | None"], Any]
Transform = Callable[[dict[str, Any]], dict[str, Any]]


def object_key(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    ns = meta.get("namespace")
    return f"{ns}/{meta.get('name')}" if ns else str(meta.get("name"))


class Informer:
    def __init__(
        self,
        res: Resource,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        page_size: int | None = 500,
        transform: Transform | None = None,
        backoff: Backoff | None = None,
        store_transform: Transform | None = None,
    ) -> None:
        self.resource = res
        self.namespace = namespace
        self.label_selector = label_selector
        self.field_selector = field_selector
        self.page_size = page_size
        self.transform = transform  # e.g. drop managedFields before storing (memory at 100k objects)
        # What the store keeps, when handlers need the whole object but the mirror less of it
        # (it must keep metadata.name/namespace/resourceVersion); handlers' `old` is that form.
        self.store_transform = store_transform
        self.store: dict[str, dict[str, Any]] = {}
        self.resource_version = ""
        self._handlers: list[Handler] = []
        self._synced = asyncio.Event()
        self._backoff = backoff or Backoff(initial=0.8, cap=30.0)
        self._last_error = ""

    def __repr__(self) -> str:
        return f"Informer({self.resource.group_version}/{self.resource.plural})"

    def add_handler(self, on_event: Handler) -> None:
        self._handlers.append(on_event)

    async def wait_synced(self) -> None:
        await self._synced.wait()

    @property
    def has_synced(self) -> bool:
        return self._synced.is_set()

    async def run(self) -> None:
        """List and watch until cancelled."""
        while True:
            try:
                if not self.resource_version:
                    await self._relist()
                await self._watch()
            except ApiError as err:
                if err.is_gone:
                    log.info("%s: resourceVersion %s expired, listing again", self, self.resource_version)
                    self.resource_version = ""
                    continue
                await self._fail(err)
            except (ValueError, KeyError, TypeError) as err:  # malformed reply
                await self._fail(err)

    async def _fail(self, err: Exception) -> None:
        cause = f"{type(err).__name__}: {err}"
        if cause != self._last_error:
            log.warning("%s: %s; retrying with backoff", self, cause)
            self._last_error = cause
        await asyncio.sleep(self._backoff.next_delay())

    def _recovered(self) -> None:
        if self._last_error:
            log.info("%s: recovered", self)
            self._last_error = ""
        self._backoff.reset()

    async def _list_all(self) -> tuple[list[dict[str, Any]], str]:
        items: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            try:
                page = await self.resource.list(
                    self.namespace, self.label_selector, self.field_selector, self.page_size, token
                )
            except ApiError as err:
                if not (err.is_gone and token):
                    raise
                # The continue token expired mid-way: fall back to one unpaged list.
                page, items = await self.resource.list(self.namespace, self.label_selector, self.field_selector), []
            items.extend(page.get("items") or [])
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return items, str((page.get("metadata") or {}).get("resourceVersion") or "")

    async def _relist(self) -> None:
        items, rv = await self._list_all()
        self._recovered()
        fresh: dict[str, dict[str, Any]] = {}
        for obj in items:
            obj = self.transform(obj) if self.transform else obj
            fresh[object_key(obj)] = obj
        old_store, self.store = self.store, {}
        keep = self.store_transform
        for key, obj in fresh.items():
            old = old_store.pop(key, None)
            self.store[key] = keep(obj) if keep else obj
            if old is None:
                await self._dispatch("ADDED", obj, None)
            elif _rv(old) != _rv(obj):
                await self._dispatch("MODIFIED", obj, old)
        for old in old_store.values():
            await self._dispatch("DELETED", old, old)
        self.resource_version = rv
        self._synced.set()

    async def _watch(self) -> None:
        timeout = int(300 * (1 + random.random()))  # as client-go: spread watch renewals
        async for kind, obj in self.resource.watch(
            self.namespace, self.label_selector, self.field_selector, self.resource_version, timeout
        ):
            self._recovered()
            rv = _rv(obj)
            if kind == "BOOKMARK":
                if rv:
                    self.resource_version = rv
                continue
            await self._apply(kind, obj)
            if rv:
                self.resource_version = rv

    async def _apply(self, kind: str, obj: dict[str, Any]) -> None:
        obj = self.transform(obj) if self.transform else obj
        key = object_key(obj)
        if kind == "DELETED":
            old = self.store.pop(key, None)
            await self._dispatch("DELETED", obj, old)
            return
        old = self.store.get(key)
        self.store[key] = self.store_transform(obj) if self.store_transform else obj
        await self._dispatch("ADDED" if old is None else "MODIFIED", obj, old)

    async def _dispatch(self, kind: str, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        for handler in self._handlers:
            try:
                result = handler(kind, obj, old)
                if inspect.isawaitable(result):
                    await result
            except Exception:  # one bad handler must not stop the mirror
                log.exception("%s: handler %s failed on %s %s", self, handler, kind, object_key(obj))


def _rv(obj: dict[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion") or "")
