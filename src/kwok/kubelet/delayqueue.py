"""A keyed delaying queue with two priorities (KWOK's WeightDelayingQueue + delayQueueMapping).

`add(key, job, delay, weight)` schedules `job` to become ready after `delay` seconds; a job
already pending for the same key is cancelled and replaced (every new version of an object
re-arms its next stage). Ready jobs are handed to workers through `get()`, weight 0 (fresh work)
before weight 1 (retries). Timers are the event loop's own (call_later), whose heap already copes
with many cancelled handles, so 100,000 pending jobs cost one handle each.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class _Entry(Generic[T]):
    __slots__ = ("key", "job", "weight", "handle", "ready")

    def __init__(self, key: Hashable, job: T, weight: int) -> None:
        self.key = key
        self.job = job
        self.weight = weight
        self.handle: asyncio.TimerHandle | None = None
        self.ready = False


class DelayingQueue(Generic[T]):
    def __init__(self) -> None:
        self._pending: dict[Hashable, _Entry[T]] = {}
        self._ready: tuple[deque[_Entry[T]], deque[_Entry[T]]] = (deque(), deque())
        self._waiters: deque[asyncio.Future[None]] = deque()

    def __len__(self) -> int:
        return len(self._pending)

    @property
    def ready_count(self) -> int:
        return len(self._ready[0]) + len(self._ready[1])

    def pending(self, key: Hashable) -> T | None:
        entry = self._pending.get(key)
        return entry.job if entry is not None else None

    def add(self, key: Hashable, job: T, delay: float = 0.0, weight: int = 0) -> None:
        self.cancel(key)
        entry = _Entry(key, job, 1 if weight else 0)
        self._pending[key] = entry
        if delay <= 0:
            self._make_ready(entry)
        else:
            entry.handle = asyncio.get_running_loop().call_later(delay, self._make_ready, entry)

    def cancel(self, key: Hashable) -> T | None:
        entry = self._pending.pop(key, None)
        if entry is None:
            return None
        if entry.handle is not None:
            entry.handle.cancel()
        entry.ready = False  # a ready entry stays in its deque but is skipped by get()
        return entry.job

    def _make_ready(self, entry: _Entry[T]) -> None:
        if self._pending.get(entry.key) is not entry:
            return
        entry.ready = True
        self._ready[entry.weight].append(entry)
        self._wake_one()

    async def get(self) -> tuple[Hashable, T]:
        """The next ready job; it stops being pending (a new add() for its key starts afresh)."""
        while True:
            for lane in self._ready:
                while lane:
                    entry = lane.popleft()
                    if entry.ready and self._pending.get(entry.key) is entry:
                        del self._pending[entry.key]
                        return entry.key, entry.job
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                # Pass the wake-up on if we were woken and cancelled at the same time.
                if waiter.done() and not waiter.cancelled() and self.ready_count:
                    self._wake_one()
                raise

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def clear(self) -> None:
        for key in list(self._pending):
            self.cancel(key)
