"""Watch streams: one chunked HTTP response per watch, newline-delimited events.

The store calls `deliver` synchronously as each durable write is published. A watcher without
selectors (the common case: informers of kwok, the scheduler, controllers) appends the event's shared
pre-encoded line; one with selectors evaluates them against the old and the new state, so an object
that stops matching yields DELETED and one that starts matching yields ADDED. Each stream's writer
task drains its buffer in one write, which batches bursts into few syscalls.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import random
from collections.abc import Callable, Iterator
from typing import Any

import orjson
from aiohttp import web

from kwok.api import errors
from kwok.apiserver.catalog import Served
from kwok.apiserver.listing import Filter
from kwok.apiserver.storage import Entry, Event, Expired, Store

Obj = dict[str, Any]
MIN_REQUEST_TIMEOUT = 1800          # a watch without timeoutSeconds ends after 1-2x this (as the real server)
BOOKMARK_INTERVAL = 60.0
TOO_LARGE_WAIT = 3.0
INITIAL_BATCH = 500                 # synthetic ADDED lines per write
MAX_BUFFERED = 100_000              # a client this far behind is cut off; it re-lists and re-watches
TableEncoder = Callable[[str, bytes], bytes]


class HttpWatcher:
    def __init__(self, flt: Filter, table: TableEncoder | None) -> None:
        self.filter = flt
        self.table = table
        self.start_rv = 0
        self.sent_rv = 0
        self.buffer: list[bytes] = []
        self.wake = asyncio.Event()
        self.overflow = False
        self.closed = False
        self.head: Iterator[bytes] | None = None     # initial events, written before anything buffered
        self._plain = not flt.selects and flt.namespace is None and table is None

    def deliver(self, event: Event) -> None:
        if self._plain:
            self._push(event.frame(event.type))
            return
        event_type = self._type_for(event)
        if event_type is not None:
            self._push(self._frame(event, event_type))

    def _type_for(self, event: Event) -> str | None:
        new = event.type != "DELETED" and self.filter.matches(event.entry)
        old = event.old is not None and self.filter.matches(event.old)
        if event.type == "DELETED":
            return "DELETED" if old else None
        if new:
            return "MODIFIED" if old else "ADDED"
        return "DELETED" if old else None

    def _frame(self, event: Event, event_type: str) -> bytes:
        if self.table is None:
            return event.frame(event_type)
        return self.table(event_type, event.entry.data)

    def initial(self, entry: Entry) -> bytes:
        if self.table is None:
            return b'{"type":"ADDED","object":' + entry.data + b"}\n"
        return self.table("ADDED", entry.data)

    def close(self) -> None:
        """End the stream after what is buffered (server shutdown)."""
        self.closed = True
        self.wake.set()

    def _push(self, frame: bytes) -> None:
        self.buffer.append(frame)
        if len(self.buffer) > MAX_BUFFERED:
            self.overflow = True
        self.wake.set()


def _bookmark(served: Served, rv: int, initial_end: bool = False) -> bytes:
    meta: Obj = {"resourceVersion": str(rv)}
    if initial_end:
        meta["annotations"] = {"k8s.io/initial-events-end": "true"}
    obj = {"kind": served.info.kind, "apiVersion": served.info.group_version, "metadata": meta}
    return orjson.dumps({"type": "BOOKMARK", "object": obj}) + b"\n"


def _error_event(err: errors.ApiError) -> bytes:
    return orjson.dumps({"type": "ERROR", "object": err.status}) + b"\n"


def _timeout(query: Any) -> float:
    text = query.get("timeoutSeconds")
    if text:
        try:
            return max(0.0, float(int(text)))
        except ValueError:
            raise errors.bad_request(f'strconv.ParseInt: parsing "{text}": invalid syntax') from None
    return MIN_REQUEST_TIMEOUT * (1 + random.random())


def _truthy(text: str | None) -> bool:
    return text in ("true", "1", "True")


async def serve_watch(request: web.Request, store: Store, served: Served, flt: Filter,
                      table: TableEncoder | None, on_start: Callable[[int], None] | None = None) -> web.StreamResponse:
    query = request.query
    timeout = _timeout(query)
    bookmarks = _truthy(query.get("allowWatchBookmarks"))
    initial_events = _truthy(query.get("sendInitialEvents"))
    rv_text = query.get("resourceVersion") or ""
    if initial_events and not bookmarks:
        raise errors.invalid("ListOptions", "", [{"reason": "FieldValueForbidden", "field": "allowWatchBookmarks",
                                                  "message": "Forbidden: sendInitialEvents requires setting "
                                                             "allowWatchBookmarks to true"}], "meta.k8s.io")
    watcher = HttpWatcher(flt, table)
    expired: errors.ApiError | None = None
    synthetic = initial_events or rv_text in ("", "0")
    since = store.rv if synthetic else _parse_since(rv_text)
    await _wait_for_revision(store, since)
    if synthetic:
        # the current objects, encoded lazily by the pump: a watch of 100,000 pods from "now"
        # must not build all its ADDED lines up front
        _rv, entries = store.list_entries(served.key, flt.namespace)
        watcher.head = _initial_frames(watcher, list(entries), served, since, initial_events)
    try:
        replay = store.watch(served.key, since, watcher)
    except Expired as exc:
        expired = errors.expired(exc.requested, exc.oldest)
        replay = []
    for event in replay:
        watcher.deliver(event)
    watcher.wake.set()
    response = web.StreamResponse(headers={"Content-Type": "application/json", "Cache-Control": "no-cache, private"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    if on_start:
        on_start(1)
    try:
        if expired is not None:
            await response.write(_error_event(expired))
        else:
            await _pump(request, response, store, served, watcher, timeout, bookmarks)
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        store.unwatch(served.key, watcher)
        if on_start:
            on_start(-1)
    try:
        await response.write_eof()
    except (ConnectionResetError, RuntimeError):
        pass
    return response


async def _wait_for_revision(store: Store, rv: int) -> None:
    """A resourceVersion from the future: wait briefly for it, as the watch cache does, then 504."""
    deadline = asyncio.get_running_loop().time() + TOO_LARGE_WAIT
    while store.rv < rv:
        if asyncio.get_running_loop().time() >= deadline:
            raise errors.timeout(f"Too large resource version: {rv}, current: {store.rv}", 1)
        await asyncio.sleep(0.05)


def _initial_frames(watcher: HttpWatcher, entries: list[Entry], served: Served, rv: int,
                    end_bookmark: bool) -> Iterator[bytes]:
    """Synthetic ADDED lines for the objects that exist, then (sendInitialEvents) the end bookmark."""
    for entry in entries:
        if watcher.filter.matches(entry):
            yield watcher.initial(entry)
    if end_bookmark:
        yield _bookmark(served, rv, initial_end=True)


def _parse_since(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise errors.bad_request(f'invalid resource version: strconv.ParseUint: parsing "{text}": '
                                 "invalid syntax") from None


async def _pump(request: web.Request, response: web.StreamResponse, store: Store, served: Served,
                watcher: HttpWatcher, timeout: float, bookmarks: bool) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    next_bookmark = loop.time() + BOOKMARK_INTERVAL
    transport = request.transport
    while True:
        now = loop.time()
        if now >= deadline or watcher.overflow or transport is None or transport.is_closing():
            return
        if watcher.head is not None:
            chunk = b"".join(itertools.islice(watcher.head, INITIAL_BATCH))
            if chunk:
                await response.write(chunk)
                continue
            watcher.head = None
        if watcher.buffer:
            chunk = b"".join(watcher.buffer)
            watcher.buffer.clear()
            await response.write(chunk)
            continue
        if watcher.closed:
            return
        if bookmarks and now >= next_bookmark:
            await response.write(_bookmark(served, max(store.published_rv, watcher.start_rv)))
            next_bookmark = now + BOOKMARK_INTERVAL
            continue
        watcher.wake.clear()
        wait = min(deadline, next_bookmark if bookmarks else deadline, now + 5.0) - now
        try:
            await asyncio.wait_for(watcher.wake.wait(), timeout=max(wait, 0.0))
        except TimeoutError:
            pass


def table_encoder(served: Served, include_object: str | None,
                  render: Callable[[Served, list[Obj], dt.datetime, str | None, Obj], Obj]) -> TableEncoder:
    """Each event's object as a one-row Table. As the real server's watch encoder does, only the
    first event carries the column definitions (the later ones have none: `NoHeaders`); a client
    such as `kubectl get -w` keeps the first ones, and a busy watch sends a tenth of the bytes."""
    headers_sent = False

    def encode(event_type: str, data: bytes) -> bytes:
        nonlocal headers_sent
        obj = orjson.loads(data)
        table = render(served, [obj], dt.datetime.now(dt.UTC), include_object,
                       {"resourceVersion": obj["metadata"].get("resourceVersion", "")})
        if headers_sent:
            table["columnDefinitions"] = None
        headers_sent = True
        return orjson.dumps({"type": event_type, "object": table}) + b"\n"

    return encode
