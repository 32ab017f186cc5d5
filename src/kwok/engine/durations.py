"""Go's time.ParseDuration and time.Parse(RFC3339Nano), in integer nanoseconds."""

from __future__ import annotations

import datetime as dt
import re

_UNITS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "μs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_COMPONENT = re.compile(r"(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)")
_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$"
)


def parse_go_duration(text: str) -> int:
    """`1h2m3.5s` -> nanoseconds; raises ValueError as Go's ParseDuration does."""
    rest, sign = text, 1
    if rest[:1] in "+-" and rest:
        sign = -1 if rest[0] == "-" else 1
        rest = rest[1:]
    if rest == "0":
        return 0
    if not rest:
        raise ValueError(f'time: invalid duration "{text}"')
    total, pos = 0, 0
    while pos < len(rest):
        match = _COMPONENT.match(rest, pos)
        if match is None or (not match.group(1) and not match.group(2)):
            raise ValueError(f'time: invalid duration "{text}"')
        whole, frac, unit = match.group(1) or "0", match.group(2) or "", _UNITS[match.group(3)]
        total += int(whole) * unit + (int(frac) * unit // 10 ** len(frac) if frac else 0)
        pos = match.end()
    return sign * total


def parse_rfc3339(text: str) -> int:
    """An RFC 3339 timestamp (nanosecond precision) -> nanoseconds since the Unix epoch."""
    match = _RFC3339.match(text)
    if match is None:
        raise ValueError(f'parsing time "{text}" as RFC3339')
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    frac, zone = match.group(7) or "", match.group(8)
    tz = dt.UTC if zone in ("Z", "z") else _offset(zone)
    base = dt.datetime(year, month, day, hour, minute, second, tzinfo=tz)
    seconds = int(base.timestamp())
    return seconds * 1_000_000_000 + (int(frac.ljust(9, "0")) if frac else 0)


def _offset(zone: str) -> dt.timezone:
    sign = -1 if zone[0] == "-" else 1
    return dt.timezone(sign * dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))


def to_unix_nanos(when: dt.datetime) -> int:
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    delta = when - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000
