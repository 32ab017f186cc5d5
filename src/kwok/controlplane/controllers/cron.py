"""Cron schedules as CronJobs read them (robfig/cron's standard parser, pure).

Five fields (minute hour day-of-month month day-of-week) with `*`, `?`, lists, ranges, steps and
month/day names, or a descriptor (`@hourly`, `@daily`/`@midnight`, `@weekly`, `@monthly`,
`@yearly`/`@annually`). When both day fields are restricted a day matching either runs (cron's
OR rule). Times are computed in the CronJob's time zone (UTC unless `spec.timeZone`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DESCRIPTORS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
               "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}
MONTHS = {m: i for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
                                      "dec"], start=1)}
DAYS = {d: i for i, d in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])}
BOUNDS = [(0, 59, {}), (0, 23, {}), (1, 31, {}), (1, 12, MONTHS), (0, 6, DAYS)]
MAX_YEARS = 5


class CronError(ValueError):
    pass


@dataclass(frozen=True)
class Schedule:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    any_day: bool  # day-of-month was * or ?
    any_weekday: bool
    zone: dt.tzinfo

    def day_matches(self, day: dt.date) -> bool:
        dom = day.day in self.days
        dow = (day.weekday() + 1) % 7 in self.weekdays
        if self.any_day or self.any_weekday:
            return dom and dow
        return dom or dow

    def next_after(self, when: dt.datetime) -> dt.datetime | None:
        """The first activation strictly after `when` (None if none within five years)."""
        local = when.astimezone(self.zone).replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
        day = local.date()
        for _ in range(366 * MAX_YEARS):
            if day.month in self.months and self.day_matches(day):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        candidate = dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=self.zone)
                        if candidate >= local:
                            return candidate.astimezone(dt.UTC)
            day += dt.timedelta(days=1)
        return None


def _value(text: str, names: dict[str, int]) -> int:
    if text.lower() in names:
        return names[text.lower()]
    if not text.isdigit():
        raise CronError(f"failed to parse int from {text}: strconv.Atoi: parsing {text!r}: invalid syntax")
    return int(text)


def _field(text: str, low: int, high: int, names: dict[str, int]) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            if not step_text.isdigit() or int(step_text) == 0:
                raise CronError(f"failed to parse int from {step_text}")
            step = int(step_text)
        if part in ("*", "?"):
            start, end = low, high
        elif "-" in part:
            a, b = part.split("-", 1)
            start, end = _value(a, names), _value(b, names)
        else:
            start = _value(part, names)
            end = high if step > 1 else start
        if start < low:
            raise CronError(f"beginning of range ({start}) below minimum ({low}): {text}")
        if end > high:
            raise CronError(f"end of range ({end}) above maximum ({high}): {text}")
        if start > end:
            raise CronError(f"beginning of range ({start}) beyond end of range ({end}): {text}")
        values.update(range(start, end + 1, step))
    return frozenset(values)


def parse(schedule: str, time_zone: str | None = None) -> Schedule:
    text = schedule.strip()
    if text.startswith("TZ=") or text.startswith("CRON_TZ="):
        raise CronError("TZ is not allowed in the schedule; use spec.timeZone")
    text = DESCRIPTORS.get(text, text)
    if text.startswith("@"):
        raise CronError(f"unrecognized descriptor: {text}")
    fields = text.split()
    if len(fields) != 5:
        raise CronError(f"expected exactly 5 fields, found {len(fields)}: [{' '.join(fields)}]")
    try:
        zone: dt.tzinfo = ZoneInfo(time_zone) if time_zone else dt.UTC
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise CronError(f"unknown time zone {time_zone}") from err
    parsed = [_field(f, lo, hi, names) for f, (lo, hi, names) in zip(fields, BOUNDS, strict=True)]
    return Schedule(parsed[0], parsed[1], parsed[2], parsed[3], parsed[4], any_day=fields[2] in ("*", "?"),
                    any_weekday=fields[4] in ("*", "?"), zone=zone)


def missed_times(schedule: Schedule, since: dt.datetime, now: dt.datetime, limit: int = 101) -> list[dt.datetime]:
    """Activations in (since, now], at most `limit` (the controller gives up beyond 100)."""
    out: list[dt.datetime] = []
    current = schedule.next_after(since)
    while current is not None and current <= now and len(out) < limit:
        out.append(current)
        current = schedule.next_after(current)
    return out
