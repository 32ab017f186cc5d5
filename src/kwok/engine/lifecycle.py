"""Stage sets and the choice among matching stages (pkg/utils/lifecycle/lifecycle.go).

    stage_set = StageSet.load(docs)                 # Stage documents; other kinds are skipped
    lifecycle = stage_set.for_resource("v1", "Pod")
    candidates = lifecycle.match(obj, ctx)          # every matching, enabled stage with its weight;
                                                    # raises CELError (a CEL selector, weightFrom
                                                    # or durationFrom failed): then nothing matches
    stage = lifecycle.choose(candidates, rng)       # KWOK's weighted random pick, or None
    possible = lifecycle.possible(candidates)       # what `kwok stage test` lists

Weights: if no candidate has an available weight, pick uniformly among all; if the available
weights sum to 0, uniformly among those with an available weight; otherwise weighted by weight,
excluding weights <= 0.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kwok.engine.celexpr import CELContext
from kwok.engine.stage import Stage, StageError


@dataclass(frozen=True)
class Candidate:
    stage: Stage
    weight: int | None  # None: unavailable


class Lifecycle:
    """The stages of one resource kind, in load order."""

    def __init__(self, stages: Iterable[Stage]) -> None:
        self.stages = tuple(stages)

    def __bool__(self) -> bool:
        return bool(self.stages)

    def match(self, obj: Any, ctx: CELContext) -> list[Candidate]:
        return [Candidate(s, s.weight(obj, ctx)) for s in self.stages if s.matches(obj, ctx)]

    @staticmethod
    def possible(candidates: list[Candidate]) -> list[Candidate]:
        available = [c for c in candidates if c.weight is not None]
        if not available:
            return list(candidates)
        if sum(c.weight or 0 for c in available) == 0:
            return available
        return [c for c in available if (c.weight or 0) > 0]

    @staticmethod
    def choose(candidates: list[Candidate], rng: random.Random) -> Stage | None:
        if not candidates:
            return None
        pool = Lifecycle.possible(candidates)
        total = sum(max(c.weight or 0, 0) for c in pool)
        if total <= 0:
            return pool[rng.randrange(len(pool))].stage
        point = rng.randrange(total)
        for c in pool:
            point -= max(c.weight or 0, 0)
            if point < 0:
                return c.stage
        return pool[-1].stage


class StageSet:
    """Compiled stages grouped by resourceRef."""

    def __init__(self, stages: Iterable[Stage]) -> None:
        self.stages = tuple(stages)
        names: set[str] = set()
        for s in self.stages:
            if s.name in names:
                raise StageError(f'stage "{s.name}": metadata.name: Duplicate value')
            names.add(s.name)
        groups: dict[tuple[str, str], list[Stage]] = {}
        for s in self.stages:
            groups.setdefault((s.api_group, s.kind), []).append(s)
        self._by_ref = {ref: Lifecycle(group) for ref, group in groups.items()}

    @classmethod
    def load(cls, docs: Iterable[Mapping[str, Any]]) -> StageSet:
        """Compile every `kind: Stage` document; documents of other kinds are skipped."""
        return cls(Stage.compile(d) for d in docs if isinstance(d, Mapping) and d.get("kind") == "Stage")

    def resource_refs(self) -> list[tuple[str, str]]:
        return sorted(self._by_ref)

    def for_resource(self, api_group: str, kind: str) -> Lifecycle:
        return self._by_ref.get((api_group, kind)) or Lifecycle(())
