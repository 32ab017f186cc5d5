"""The scheduling queue: active (by priority), backing off, and unschedulable pods.

As kube-scheduler's PriorityQueue: the active queue pops the highest priority first, then the
oldest; a pod that failed waits a backoff of 1 s doubling to 10 s per attempt; a pod no node fits
waits in the unschedulable set until the cluster changes in a way that may help (a node appears or
changes, an assigned pod goes away), or at most 5 minutes. Time is passed in.

Each pod is in at most one of the three places; heap items that no longer match the pod's
current place (`seq`) are skipped when popped, which keeps every operation O(log n).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

from kwok.controlplane.scheduler.podinfo import PodInfo

INITIAL_BACKOFF = 1.0
MAX_BACKOFF = 10.0
MAX_UNSCHEDULABLE_SECONDS = 300.0


@dataclass(slots=True)
class QueuedPod:
    info: PodInfo
    attempts: int = 0
    backoff_until: float = 0.0
    seq: int = 0
    in_flight: bool = False


@dataclass
class SchedulingQueue:
    entries: dict[str, QueuedPod] = field(default_factory=dict)
    _active: list[tuple[int, str, int, str]] = field(default_factory=list)
    _backoff: list[tuple[float, int, str]] = field(default_factory=list)
    _unschedulable: dict[str, float] = field(default_factory=dict)  # key -> since, in time order
    _seq: int = 0

    def __len__(self) -> int:
        return len(self.entries)

    def add(self, info: PodInfo, now: float) -> None:
        """A new pending pod, or a newer revision of one already queued."""
        entry = self.entries.get(info.key)
        if entry is None:
            entry = self.entries[info.key] = QueuedPod(info)
            self._activate(entry)
            return
        changed = _scheduling_inputs(entry.info) != _scheduling_inputs(info)
        entry.info = info
        if changed and info.key in self._unschedulable:
            self._retry(entry, now)

    def delete(self, key: str) -> None:
        self.entries.pop(key, None)
        self._unschedulable.pop(key, None)

    def pop(self, now: float) -> PodInfo | None:
        self.flush(now)
        while self._active:
            _, _, seq, key = heapq.heappop(self._active)
            entry = self.entries.get(key)
            if entry is None or entry.seq != seq or entry.in_flight:
                continue
            entry.in_flight = True
            entry.attempts += 1
            return entry.info
        return None

    def done(self, key: str) -> None:
        """Scheduled (or handed to the binder): the pod leaves the queue."""
        self.delete(key)

    def unschedulable(self, key: str, now: float) -> None:
        entry = self.entries.get(key)
        if entry is not None:
            entry.in_flight = False
            entry.seq = self._next_seq()
            entry.backoff_until = now + self.backoff(entry.attempts)
            self._unschedulable[key] = now

    def error(self, key: str, now: float) -> None:
        """An API error or a conflict: retry after the backoff."""
        entry = self.entries.get(key)
        if entry is not None:
            entry.in_flight = False
            entry.backoff_until = now + self.backoff(entry.attempts)
            self._to_backoff(entry)

    @staticmethod
    def backoff(attempts: int) -> float:
        return float(min(INITIAL_BACKOFF * 2 ** max(attempts - 1, 0), MAX_BACKOFF))

    def move_all(self, now: float) -> None:
        """The cluster changed: every unschedulable pod gets another chance after its backoff."""
        keys, self._unschedulable = list(self._unschedulable), {}
        for key in keys:
            entry = self.entries.get(key)
            if entry is not None:
                self._retry(entry, now)

    def flush(self, now: float) -> None:
        while self._backoff and self._backoff[0][0] <= now:
            _, seq, key = heapq.heappop(self._backoff)
            entry = self.entries.get(key)
            if entry is not None and entry.seq == seq:
                self._activate(entry)
        for key, since in list(self._unschedulable.items()):
            if now - since < MAX_UNSCHEDULABLE_SECONDS:
                break
            del self._unschedulable[key]
            entry = self.entries.get(key)
            if entry is not None:
                self._retry(entry, now)

    def next_wakeup(self, now: float) -> float | None:
        """Seconds until a waiting pod may become active again, if any waits."""
        times = [self._backoff[0][0]] if self._backoff else []
        if self._unschedulable:
            times.append(next(iter(self._unschedulable.values())) + MAX_UNSCHEDULABLE_SECONDS)
        return max(min(times) - now, 0.0) if times else None

    def has_active(self) -> bool:
        return bool(self._active)

    def nominated(self) -> dict[str, list[PodInfo]]:
        out: dict[str, list[PodInfo]] = {}
        for entry in self.entries.values():
            node = (entry.info.pod.get("status") or {}).get("nominatedNodeName")
            if node:
                out.setdefault(node, []).append(entry.info)
        return out

    def _retry(self, entry: QueuedPod, now: float) -> None:
        self._unschedulable.pop(entry.info.key, None)
        if entry.backoff_until > now:
            self._to_backoff(entry)
        else:
            self._activate(entry)

    def _to_backoff(self, entry: QueuedPod) -> None:
        entry.seq = self._next_seq()
        heapq.heappush(self._backoff, (entry.backoff_until, entry.seq, entry.info.key))

    def _activate(self, entry: QueuedPod) -> None:
        entry.seq = self._next_seq()
        entry.backoff_until = 0.0
        created = entry.info.pod["metadata"].get("creationTimestamp") or ""
        heapq.heappush(self._active, (-entry.info.priority, created, entry.seq, entry.info.key))

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq


def _scheduling_inputs(info: PodInfo) -> tuple[object, ...]:
    spec = info.spec
    return (spec.get("nodeSelector"), spec.get("affinity"), spec.get("tolerations"), spec.get("schedulingGates"),
            spec.get("topologySpreadConstraints"), info.requests, info.labels)
