"""Kubernetes time formats: metav1.Time (seconds), MicroTime, and parsing them back."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from kwok.engine.durations import parse_rfc3339


def rfc3339(now: float) -> str:
    return dt.datetime.fromtimestamp(int(now), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def micro_time(now: float) -> str:
    return dt.datetime.fromtimestamp(now, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@lru_cache(maxsize=65536)
def parse_time(text: str) -> float:
    """Seconds since the epoch of a Time or MicroTime string."""
    return parse_rfc3339(text) / 1e9
