"""Metric and ResourceUsage CEL expressions: compiled once, through the fast path when they can be.

A CEL evaluation through cel-python costs ~0.4 ms (mostly turning the pod into typed CEL
values), and a scrape of a node evaluates a few expressions per container. The shapes KWOK's
metrics documents use (field chains, literals, Usage/CumulativeUsage/SinceSecond, Quantity and
`"k" in m ? ... : ...`) are evaluated by kwok.engine.celfast in plain Python with celpy's results;
an expression outside that grammar, or an object the fast path does not model, goes through
cel-python, which is only imported then.

An expression that cannot observe time or other objects ("static") is cached per object
revision by its callers: the annotation-driven usage of the default ClusterResourceUsage is
evaluated once per pod update, not once per scrape.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from typing import Any

from kwok.engine import CELContext, CELProgram
from kwok.engine.celfast import FastProgram, Unsupported, compile_fast

# compile_fast is named here so that tests and bench/metrics_bench.py can switch the fast path off.
__all__ = ["Expression", "compile_expression", "compile_fast"]

Variables = Mapping[str, Any]
Evaluate = Callable[[Variables, CELContext], Any]

_DYNAMIC = re.compile(r"\b(Now|now|Rand|SinceSecond|Usage|CumulativeUsage|StartedContainersTotal|startedContainersTotal)\b")


class Expression:
    """One compiled expression; `static` when its value depends only on its variables."""

    __slots__ = ("source", "static", "_fast", "_cel")

    def __init__(self, source: str) -> None:
        self.source = source.strip()
        self._fast: FastProgram | None = compile_fast(self.source)
        self.static = self._fast.static if self._fast is not None else _DYNAMIC.search(self.source) is None
        self._cel: CELProgram | None = None if self._fast is not None else CELProgram(self.source)

    def evaluate(self, variables: Variables, ctx: CELContext) -> Any:
        if self._fast is not None:
            try:
                return self._fast.evaluate(variables, ctx)
            except Unsupported:
                pass  # an object outside the fast path's model: celpy decides
        return self._celpy().evaluate(variables, ctx)

    def _celpy(self) -> CELProgram:
        if self._cel is None:
            self._cel = CELProgram(self.source)
        return self._cel


@functools.lru_cache(maxsize=4096)
def compile_expression(source: str) -> Expression:
    return Expression(source)
