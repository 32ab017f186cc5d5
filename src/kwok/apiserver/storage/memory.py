"""The in-memory MVCC index: current objects, one resourceVersion counter, a window of events.

A write runs in two steps. The synchronous step (no await in between, so it is atomic on the event
loop) checks the resourceVersion precondition, assigns the next revision, re-encodes the object with
it and updates the index. The asynchronous step waits until the backend has made the write durable;
only then is the event appended to the history and fanned out to watchers, in revision order, so a
watcher never sees a change that a crash could still lose.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, Protocol

import orjson

from kwok.apiserver.storage.base import (
    Backend,
    Entry,
    Event,
    Expired,
    NullBackend,
    PreconditionFailed,
    split_key,
)

log = logging.getLogger("kwok.apiserver.storage")
Obj = dict[str, Any]
FieldsOf = Callable[[Obj], dict[str, str]]
_SNAPSHOTS = 4                       # past lists kept for paginated lists reading them page by page


class Watcher(Protocol):
    start_rv: int

    def deliver(self, event: Event) -> None: ...


class Store:
    def __init__(self, backend: Backend | None = None, window: int = 10_000) -> None:
        self.backend: Backend = backend or NullBackend()
        self.window = max(1, window)
        self.rv = 0                      # last assigned revision
        self.published_rv = 0            # last revision whose event watchers have seen
        self.compacted_rv = 0            # watches must start at or after this revision
        self._objects: dict[str, dict[str, dict[str, Entry]]] = {}
        self._sorted: dict[str, list[Entry] | None] = {}
        self._history: deque[Event] = deque()
        self._pending: deque[Event] = deque()
        self._watchers: dict[str, set[Watcher]] = {}
        self._snapshots: dict[tuple[str, str | None, int], list[Entry]] = {}
        self.failure = ""                # why the last durable write failed ("" while healthy)

    # ----------------------------------------------------------------- loading
    def load(self, fields_of: Callable[[str], FieldsOf]) -> int:
        """Rebuild the index from the backend; returns the number of objects."""
        rv, rows = self.backend.load()
        for key, obj_rv, data in rows:
            resource, namespace, name = split_key(key)
            obj = orjson.loads(data)
            self._put(Entry(resource, namespace, name, obj_rv, data, _labels(obj), fields_of(resource)(obj)))
        self.rv = self.published_rv = self.compacted_rv = rv
        return len(rows)

    # ------------------------------------------------------------------- reads
    def get(self, resource: str, namespace: str, name: str) -> Entry | None:
        return self._objects.get(resource, {}).get(namespace, {}).get(name)

    def list_entries(self, resource: str, namespace: str | None = None) -> tuple[int, list[Entry]]:
        """All objects of a resource (in one namespace if given), sorted by namespace and name."""
        if namespace is not None:
            names = self._objects.get(resource, {}).get(namespace, {})
            return self.rv, [names[n] for n in sorted(names)]
        cached = self._sorted.get(resource)
        if cached is None:
            by_ns = self._objects.get(resource, {})
            cached = [by_ns[ns][n] for ns in sorted(by_ns) for n in sorted(by_ns[ns])]
            self._sorted[resource] = cached
        return self.rv, cached

    def list_at(self, resource: str, namespace: str | None, rv: int) -> list[Entry]:
        """The objects as they were at revision rv, rebuilt by undoing the newer events.

        A snapshot never changes once taken, so the last few are kept: the pages of one paginated
        list all read the snapshot of its first page.
        """
        self.check_not_compacted(rv)
        if rv >= self.rv:
            return self.list_entries(resource, namespace)[1]
        key = (resource, namespace, rv)
        snapshot = self._snapshots.get(key)
        if snapshot is None:
            snapshot = self._snapshots[key] = self._rebuild_at(resource, namespace, rv)
            while len(self._snapshots) > _SNAPSHOTS:
                del self._snapshots[next(iter(self._snapshots))]
        return snapshot

    def _drop_compacted_snapshots(self) -> None:
        """A snapshot past the window can no longer be asked for: let go of the old entries it holds."""
        for key in [k for k in self._snapshots if k[2] < self.compacted_rv]:
            del self._snapshots[key]

    def _rebuild_at(self, resource: str, namespace: str | None, rv: int) -> list[Entry]:
        state = {(e.namespace, e.name): e for e in self.list_entries(resource, namespace)[1]}
        # the index already holds writes still waiting to be durable: undo those too
        newer = self._events_after(rv) + [e for e in self._pending if e.rv > rv]
        for event in reversed(newer):
            entry = event.entry
            if entry.resource != resource or (namespace is not None and entry.namespace != namespace):
                continue
            key = (entry.namespace, entry.name)
            if event.old is None:
                state.pop(key, None)
            else:
                state[key] = event.old
        return [state[k] for k in sorted(state)]

    def count(self, resource: str) -> int:
        return sum(len(names) for names in self._objects.get(resource, {}).values())

    def resources(self) -> Iterable[str]:
        return self._objects.keys()

    # ------------------------------------------------------------------ writes
    async def create(self, resource: str, obj: Obj, fields: dict[str, str], dry_run: bool = False) -> Entry:
        meta = obj["metadata"]
        namespace, name = meta.get("namespace", ""), meta["name"]
        if self.get(resource, namespace, name) is not None:
            raise FileExistsError(name)
        entry = self._encode(resource, namespace, name, obj, fields, dry_run)
        if dry_run:
            return entry
        self._put(entry)
        await self._commit(Event("ADDED", entry.rv, entry), [entry], [])
        return entry

    async def update(self, resource: str, obj: Obj, fields: dict[str, str], expected_rv: int | None,
                     dry_run: bool = False) -> Entry:
        meta = obj["metadata"]
        namespace, name = meta.get("namespace", ""), meta["name"]
        old = self.get(resource, namespace, name)
        if old is None:
            raise KeyError(name)
        if expected_rv is not None and expected_rv != old.rv:
            raise PreconditionFailed(name)
        entry = self._encode(resource, namespace, name, obj, fields, dry_run)
        if dry_run:
            return entry
        self._objects[resource][namespace][name] = entry
        self._replace_sorted(resource, old, entry)
        await self._commit(Event("MODIFIED", entry.rv, entry, old), [entry], [])
        return entry

    async def delete(self, resource: str, namespace: str, name: str, expected_rv: int | None,
                     dry_run: bool = False, final: Obj | None = None) -> Entry:
        """Remove an object; returns its last state (`final`, or as stored) with the deletion revision."""
        old = self.get(resource, namespace, name)
        if old is None:
            raise KeyError(name)
        if expected_rv is not None and expected_rv != old.rv:
            raise PreconditionFailed(name)
        obj = final if final is not None else orjson.loads(old.data)
        entry = self._encode(resource, namespace, name, obj, old.fields, dry_run)
        if dry_run:
            return entry
        self._remove(old)
        await self._commit(Event("DELETED", entry.rv, entry, old), [], [entry])
        return entry

    def _encode(self, resource: str, namespace: str, name: str, obj: Obj, fields: dict[str, str],
                dry_run: bool) -> Entry:
        # a dry run takes no revision: the object is returned as it would be stored, minus that
        rv = self.rv + 1
        if not dry_run:
            self.rv = rv
            obj["metadata"]["resourceVersion"] = str(rv)
        # orjson's result keeps its growth buffer (often several times the length): objects live
        # long in the index, so keep an exact-size copy
        data = bytes(memoryview(orjson.dumps(obj)))
        return Entry(resource, namespace, name, rv, data, _labels(obj), fields)

    async def _commit(self, event: Event, puts: list[Entry], deletes: list[Entry]) -> None:
        self._pending.append(event)
        waiter = asyncio.get_running_loop().create_future()

        def durable(error: BaseException | None) -> None:
            # runs on the loop whether or not the writer still waits: a client that goes away
            # mid-write must not stop the write from being announced
            self._settle(event, error)
            if not waiter.done():
                if error is None:
                    waiter.set_result(None)
                else:
                    waiter.set_exception(error)

        # a callback rather than a task awaiting the backend: each task or future hop costs the
        # write one more turn of a busy event loop (5 hops were ~25 ms of a write's latency)
        self.backend.submit(event.rv, [(e.key, e.rv, e.data) for e in puts], [e.key for e in deletes], durable)
        await waiter

    def _settle(self, event: Event, error: BaseException | None) -> None:
        if error is not None:
            # not durable: undo it, never announce it, and do not hold back the writes queued after it
            self._pending.remove(event)
            self._undo(event)
            self.failure = f"{type(error).__name__}: {error}"
            self._publish_through(self.published_rv)
            return
        self.failure = ""
        self._publish_through(event.rv)

    def _undo(self, event: Event) -> None:
        """Put back what a failed write replaced, unless a later write changed the object again."""
        entry = event.entry
        self._snapshots.clear()
        current = self.get(entry.resource, entry.namespace, entry.name)
        if event.type == "DELETED":
            if current is None and event.old is not None:
                self._put(event.old)
        elif current is entry:
            self._remove(entry)
            if event.old is not None:
                self._put(event.old)

    def _publish_through(self, rv: int) -> None:
        """Publish every pending event up to rv: durable writes complete in revision order."""
        while self._pending and self._pending[0].rv <= rv:
            event = self._pending.popleft()
            self.published_rv = event.rv
            self._history.append(event)
            if len(self._history) > self.window:
                self.compacted_rv = self._history.popleft().rv
                if self._snapshots:
                    self._drop_compacted_snapshots()
            for watcher in tuple(self._watchers.get(event.entry.resource, ())):
                if event.rv > watcher.start_rv:
                    self._deliver(watcher, event)

    def _deliver(self, watcher: Watcher, event: Event) -> None:
        """One watcher's failure must not stop the others, nor fail the write being published."""
        try:
            watcher.deliver(event)
        except Exception:  # noqa: BLE001 - logged; the broken watcher is dropped
            log.exception("watcher of %s failed on revision %d; dropping it", event.entry.resource, event.rv)
            self.unwatch(event.entry.resource, watcher)
            close = getattr(watcher, "close", None)
            if close is not None:
                close()

    # ----------------------------------------------------------------- watches
    def watch(self, resource: str, since: int, watcher: Watcher) -> list[Event]:
        """Register a watcher; returns the recorded events after `since` (raises Expired past the window)."""
        if since < self.compacted_rv:
            raise Expired(since, self.compacted_rv + 1)
        watcher.start_rv = max(since, self.published_rv)
        self._watchers.setdefault(resource, set()).add(watcher)
        return [e for e in self._events_after(since) if e.entry.resource == resource]

    def unwatch(self, resource: str, watcher: Watcher) -> None:
        self._watchers.get(resource, set()).discard(watcher)

    def close_watches(self) -> None:
        """End every watch (shutdown): watchers that can be closed are told to finish their stream."""
        for watchers in self._watchers.values():
            for watcher in tuple(watchers):
                close = getattr(watcher, "close", None)
                if close is not None:
                    close()

    def watcher_count(self) -> int:
        return sum(len(w) for w in self._watchers.values())

    def check_not_compacted(self, rv: int) -> None:
        if rv < self.compacted_rv:
            raise Expired(rv, self.compacted_rv + 1)

    def _events_after(self, since: int) -> list[Event]:
        if not self._history or self._history[-1].rv <= since:
            return []
        # history is ordered by rv; walk from the newest end, which is where watches resume.
        out: list[Event] = []
        for event in reversed(self._history):
            if event.rv <= since:
                break
            out.append(event)
        out.reverse()
        return out

    # ------------------------------------------------------------------- index
    def _put(self, entry: Entry) -> None:
        self._objects.setdefault(entry.resource, {}).setdefault(entry.namespace, {})[entry.name] = entry
        self._sorted[entry.resource] = None

    def _remove(self, entry: Entry) -> None:
        names = self._objects[entry.resource][entry.namespace]
        del names[entry.name]
        if not names:
            del self._objects[entry.resource][entry.namespace]
        self._sorted[entry.resource] = None

    def _replace_sorted(self, resource: str, old: Entry, new: Entry) -> None:
        cached = self._sorted.get(resource)
        if cached is not None:
            # an update keeps the position; find it by bisection on (namespace, name)
            i = bisect.bisect_left(cached, (old.namespace, old.name), key=lambda e: (e.namespace, e.name))
            if i < len(cached) and cached[i] is old:
                cached[i] = new
            else:
                self._sorted[resource] = None

    async def close(self) -> None:
        await self.backend.close()


def _labels(obj: Obj) -> dict[str, str]:
    return (obj.get("metadata") or {}).get("labels") or {}
