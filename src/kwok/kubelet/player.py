"""StagePlayer: the per-kind pipeline of KWOK's stage controllers (node, pod and generic).

    watch event -> preprocess (match a stage, compute its delay)
                -> delaying queue (one pending job per object: a newer version cancels and
                   replaces it, unless it is the very version already pending)
                -> N play workers (plan the stage's actions with the engine, carry them out)

Only retryable failures (no reply, timeouts, 429, 503) are retried: from the failed action, at
low priority, after min(1 s * 2^n, 32 min) with 20 % jitter. Anything else is logged once per
cause and dropped; the object gets another chance at its next change.

The N workers (KWOK's *PlayStageParallelism) plan stages, which is CPU work; carrying the
actions out is I/O, so each worker hands a planned job to its own task and takes the next one,
with up to N * PIPELINE_DEPTH jobs talking to the API server at once. Go's goroutines block
for a ~1 ms request; here the requests of many objects overlap instead, and the controller
keeps up with the API server rather than with its latency. Objects waiting in the queue may be
kept packed (`pack`/`unpack`), as the pod mirror does, when they wait long enough for it to pay.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kwok.client import ApiError, Resource, object_key
from kwok.engine.celexpr import CELContext, CELError
from kwok.engine.gotemplate import TemplateFunc
from kwok.engine.lifecycle import Lifecycle
from kwok.engine.stage import Stage
from kwok.engine.steps import StepError
from kwok.kubelet.actions import ActionRunner
from kwok.kubelet.delayqueue import DelayingQueue
from kwok.kubelet.logonce import LogOnce
from kwok.kubelet.metrics import Metrics

log = logging.getLogger("kwok.kubelet.player")

_MAX_RETRY_DELAY = 32 * 60.0
PIPELINE_DEPTH = 16
# A job due sooner than this keeps its object as it is: packing (and unpacking) it would cost
# more CPU than the memory of the few jobs waiting that briefly is worth - unless the queue is
# backed up so far (100,000 pods created at once) that their objects would weigh hundreds of MB.
PACK_AFTER = 1.0
PACK_BACKLOG = 10_000


@dataclass
class Job:
    obj: dict[str, Any]
    stage: Stage
    rv: str
    step: int = 0
    attempts: int = 0
    actions: list[dict[str, Any]] | None = field(default=None, repr=False)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class StagePlayer:
    def __init__(
        self,
        *,
        resource: Resource,
        api_group: str,
        kind: str,
        lifecycle: Lifecycle,
        parallelism: int,
        funcs: Callable[[dict[str, Any], dt.datetime], Mapping[str, TemplateFunc]],
        runner: ActionRunner,
        metrics: Metrics,
        typed: bool = False,
        clock: Callable[[], dt.datetime] = utcnow,
        rng: random.Random | None = None,
        pack: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        unpack: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> None:
        self.resource = resource
        self.api_group = api_group
        self.kind = kind
        self.lifecycle = lifecycle
        self.parallelism = parallelism
        self.queue: DelayingQueue[Job] = DelayingQueue()
        self._funcs = funcs
        self._runner = runner
        self._metrics = metrics
        self._typed = typed
        self._clock = clock
        self._rng = rng or random.Random()
        self._problems = LogOnce(log)
        self._pack = pack
        self._unpack = unpack

    def __repr__(self) -> str:
        return f"StagePlayer({self.api_group} {self.kind})"

    # -- preprocess ---------------------------------------------------------------------------

    def preprocess(self, obj: dict[str, Any], packed: dict[str, Any] | None = None) -> None:
        """Match `obj` against the stages and (re)schedule its next stage.

        `packed`: `obj` already packed (the pod mirror keeps that form), to save packing again.
        """
        key = object_key(obj)
        rv = str(obj.get("metadata", {}).get("resourceVersion") or "")
        pending = self.queue.pending(key)
        if pending is not None and pending.rv == rv and rv:
            return
        now = self._clock()
        ctx = CELContext(now=now, rand=self._rng.random)
        try:
            stage = Lifecycle.choose(self.lifecycle.match(obj, ctx), self._rng)
            if stage is None:
                return
            delay = stage.delay(obj, now, self._rng, ctx)
        except (CELError, ValueError) as err:
            self._problems.warning(("match", str(err)), "%s %s: cannot match stages: %s", self.kind, key, err)
            return
        if self._pack is not None and (delay >= PACK_AFTER or len(self.queue) >= PACK_BACKLOG):
            obj = packed if packed is not None else self._pack(obj)
        self.queue.add(key, Job(obj, stage, rv), delay)

    def forget(self, key: str) -> None:
        self.queue.cancel(key)

    # -- play ---------------------------------------------------------------------------------

    async def run(self) -> None:
        in_flight = asyncio.Semaphore(self.parallelism * PIPELINE_DEPTH)
        async with asyncio.TaskGroup() as group:
            for _ in range(self.parallelism):
                group.create_task(self._worker(group, in_flight))

    async def _worker(self, group: asyncio.TaskGroup, in_flight: asyncio.Semaphore) -> None:
        while True:
            key, job = await self.queue.get()
            obj = self._unpack(job.obj) if self._unpack else job.obj
            if job.actions is None and not self._plan(str(key), job, obj):
                continue
            await in_flight.acquire()
            task = group.create_task(self._play(str(key), job, obj))
            task.add_done_callback(lambda _: in_flight.release())

    def _plan(self, key: str, job: Job, obj: dict[str, Any]) -> bool:
        try:
            job.actions = job.stage.plan(obj, self._funcs(obj, self._clock()), self._typed)
            return True
        except (StepError, CELError, ValueError, RuntimeError) as err:  # incl. a CIDR exhausted
            self._metrics.stage_played(self.kind, job.stage.name, "error")
            self._problems.warning(
                ("plan", job.stage.name, str(err)), "stage %s on %s %s: %s", job.stage.name, self.kind, key, err
            )
            return False

    async def _play(self, key: str, job: Job, obj: dict[str, Any]) -> None:
        try:
            await self._carry_out(key, job, obj)
        except Exception:  # a bug must not stop the others
            log.exception("%s %s: playing stage %s failed", self.kind, key, job.stage.name)

    async def _carry_out(self, key: str, job: Job, obj: dict[str, Any]) -> None:
        try:
            result = await self._runner.run(self.resource, self.api_group, self.kind, job, obj)
        except ApiError as err:
            self._failed(key, job, err)
            return
        self._metrics.stage_played(self.kind, job.stage.name, "ok")
        if result is not None:
            self.preprocess(result)  # immediateNextStage

    def _failed(self, key: str, job: Job, err: ApiError) -> None:
        if err.is_retryable:
            job.attempts += 1
            delay = min(2.0 ** (job.attempts - 1), _MAX_RETRY_DELAY) * (1 + 0.2 * self._rng.random())
            self._problems.warning(("retry", err.reason), "%s %s: %s; retrying", self.kind, key, err)
            if self.queue.pending(key) is None:  # a newer version supersedes the retry
                self.queue.add(key, job, delay, weight=1)
            self._metrics.stage_played(self.kind, job.stage.name, "retry")
            return
        self._metrics.stage_played(self.kind, job.stage.name, "error")
        if err.is_not_found:
            return  # deleted meanwhile
        self._problems.warning(
            ("api", job.stage.name, err.status, err.reason),
            "stage %s on %s %s: %s",
            job.stage.name,
            self.kind,
            key,
            err,
        )
