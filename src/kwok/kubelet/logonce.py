"""Log a problem once per cause, not once per object per second.

A broken Stage or an unreachable API server fails for every object on every retry; the first
occurrence of each cause is logged (with one example), the repeats are counted and summarised at
most once a minute, so the log stays readable at 100,000 pods.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Hashable


class LogOnce:
    def __init__(self, logger: logging.Logger, interval: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self._log = logger
        self._interval = interval
        self._clock = clock
        self._seen: dict[Hashable, list[float]] = {}  # cause -> [last summary time, repeats]

    def warning(self, cause: Hashable, msg: str, *args: object) -> None:
        self._emit(logging.WARNING, cause, msg, args)

    def error(self, cause: Hashable, msg: str, *args: object) -> None:
        self._emit(logging.ERROR, cause, msg, args)

    def _emit(self, level: int, cause: Hashable, msg: str, args: tuple[object, ...]) -> None:
        now = self._clock()
        seen = self._seen.get(cause)
        if seen is None:
            self._seen[cause] = [now, 0]
            self._log.log(level, msg, *args)
            return
        seen[1] += 1
        if now - seen[0] >= self._interval:
            self._log.log(level, msg + " (and %d more times)", *args, int(seen[1]))
            seen[0], seen[1] = now, 0
        else:
            self._log.debug(msg, *args)

    def resolved(self, cause: Hashable) -> None:
        """Forget a cause, so that it is logged again if it comes back."""
        self._seen.pop(cause, None)
