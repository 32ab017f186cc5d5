"""Progress on long work: a bar on a terminal, plain lines otherwise (CI logs stay readable)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, what: str, total: int, stream: TextIO | None = None) -> None:
        self.what, self.total, self.done = what, total, 0
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self._last = 0.0
        self._started = time.monotonic()

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if now - self._last >= (0.1 if self.tty else 2.0) or self.done >= self.total:
            self._last = now
            self._draw()

    def _draw(self) -> None:
        if self.tty:
            width = 30
            filled = width * self.done // max(self.total, 1)
            bar = "#" * filled + "-" * (width - filled)
            self.stream.write(f"\r{self.what} [{bar}] {self.done}/{self.total}")
            if self.done >= self.total:
                self.stream.write("\n")
        else:
            self.stream.write(f"{self.what}: {self.done}/{self.total}\n")
        self.stream.flush()

    def finish(self) -> float:
        if self.done < self.total:
            self.done = self.total
            self._draw()
        return time.monotonic() - self._started
