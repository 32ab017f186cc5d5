"""Exponential backoff with jitter (client-go's wait.Backoff, as informers and KWOK's queues use it)."""

from __future__ import annotations

import random
from collections.abc import Callable


class Backoff:
    """delay(n) = min(initial * factor**n, cap) * (1 + jitter * U[0,1)); `reset()` after a success."""

    def __init__(
        self,
        initial: float = 0.8,
        factor: float = 2.0,
        cap: float = 30.0,
        jitter: float = 0.2,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.initial, self.factor, self.cap, self.jitter = initial, factor, cap, jitter
        self._rand = rand
        self.failures = 0

    def next_delay(self) -> float:
        base = min(self.initial * self.factor**self.failures, self.cap)
        self.failures += 1
        return base * (1 + self.jitter * self._rand())

    def reset(self) -> None:
        self.failures = 0
