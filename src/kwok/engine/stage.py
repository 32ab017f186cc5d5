"""One compiled Stage: everything parsed and checked when it is loaded, nothing at run time.

`Stage.compile(doc)` validates a `kwok.x-k8s.io/v1alpha1` Stage and compiles its jq, CEL and
templates; any problem raises `StageError` naming the stage and the field (and, for templates, the
line). Then, per object:

    stage.matches(obj, ctx) -> bool
    stage.weight(obj, ctx) -> int | None          # None: weight unavailable
    stage.delay_range(obj, now) -> list[int] | None   # nanoseconds, as `kwok stage test` prints
    stage.delay(obj, now, rng) -> float           # seconds to wait, >= 0
    stage.plan(obj, funcs, now, typed=False) -> list[Action]
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from kwok.engine.celexpr import CELContext
from kwok.engine.durations import to_unix_nanos
from kwok.engine.expressions import DEFAULT, CELRequirement, JQRequirement, ValueFrom
from kwok.engine.gotemplate import TemplateFunc
from kwok.engine.steps import (
    Action,
    Step,
    plan_steps,
)

STAGE_API_VERSION = "kwok.x-k8s.io/v1alpha1"


class StageError(ValueError):
    """A Stage that cannot be loaded: names the stage and the field."""


@dataclass(frozen=True)
class Selector:
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    jq: tuple[JQRequirement, ...]
    cel: tuple[CELRequirement, ...]

    def matches(self, obj: Any, ctx: CELContext) -> bool:
        meta = obj.get("metadata") or {}
        if self.labels and not _has_all(meta.get("labels"), self.labels):
            return False
        if self.annotations and not _has_all(meta.get("annotations"), self.annotations):
            return False
        for requirement in self.jq:  # loops, not all(...): this runs per object per stage
            if not requirement.matches(obj, ctx):
                return False
        for cel in self.cel:
            if not cel.matches(obj, ctx):
                return False
        return True


def _has_all(present: Any, wanted: Mapping[str, str]) -> bool:
    if not isinstance(present, Mapping):
        return False
    return all(present.get(k) == v for k, v in wanted.items())


@dataclass(frozen=True)
class DurationSpec:
    milliseconds: int | None
    source: ValueFrom | None

    def get(self, obj: Any, now_ns: int, ctx: CELContext) -> int | None:
        """Nanoseconds, or None when unavailable."""
        found: Any = self.source.duration(obj, now_ns, ctx) if self.source is not None else DEFAULT
        if found is DEFAULT:
            return None if self.milliseconds is None else self.milliseconds * 1_000_000
        return cast(int | None, found)


@dataclass(frozen=True)
class Stage:
    name: str
    api_group: str
    kind: str
    selector: Selector | None  # None: the stage is disabled (selector: null)
    weight_static: int
    weight_from: ValueFrom | None
    duration: DurationSpec | None
    jitter: DurationSpec | None
    steps: tuple[Step, ...]
    immediate_next_stage: bool
    doc: Mapping[str, Any] = field(repr=False, compare=False, default_factory=dict)

    @staticmethod
    def compile(doc: Mapping[str, Any]) -> Stage:
        from kwok.engine.stagecompile import compile_stage

        return compile_stage(doc)

    def matches(self, obj: Any, ctx: CELContext) -> bool:
        return self.selector is not None and self.selector.matches(obj, ctx)

    def weight(self, obj: Any, ctx: CELContext) -> int | None:
        """The weight, or None when weightFrom makes it unavailable; raises CELError."""
        found: Any = self.weight_from.weight(obj, ctx) if self.weight_from is not None else DEFAULT
        return self.weight_static if found is DEFAULT else cast(int | None, found)

    def delay_range(self, obj: Any, now: dt.datetime, ctx: CELContext | None = None) -> list[int] | None:
        """[duration], [duration, jitter] or [jitter] in ns; None when the stage has no delay."""
        if self.duration is None:
            return None
        ctx = ctx or CELContext(now=now)
        now_ns = to_unix_nanos(now)
        duration = self.duration.get(obj, now_ns, ctx)
        if duration is None:
            return None
        jitter = self.jitter.get(obj, now_ns, ctx) if self.jitter is not None else None
        if jitter is None:
            return [duration]
        if jitter <= duration:
            return [jitter]
        return [duration, jitter]

    def delay(self, obj: Any, now: dt.datetime, rng: random.Random, ctx: CELContext | None = None) -> float:
        """Seconds to wait before playing the stage (KWOK: jitter <= duration means jitter)."""
        bounds = self.delay_range(obj, now, ctx)
        if not bounds:
            return 0.0
        nanos = bounds[0] if len(bounds) == 1 else bounds[0] + rng.randrange(bounds[1] - bounds[0])
        return max(nanos, 0) / 1e9

    def plan(self, obj: Any, funcs: Mapping[str, TemplateFunc], typed: bool = False) -> list[Action]:
        """The actions of this stage's steps on `obj`; `typed` selects strategic merge by default
        (KWOK's Node and Pod controllers), otherwise merge patch (unstructured objects)."""
        return plan_steps(self.steps, obj, funcs, typed, self.immediate_next_stage)
