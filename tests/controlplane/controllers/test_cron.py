"""Cron schedules as CronJobs read them."""

from __future__ import annotations

import datetime as dt

import pytest

from kwok.controlplane.controllers.cron import CronError, missed_times, parse

T0 = dt.datetime(2026, 1, 1, 10, 7, 30, tzinfo=dt.UTC)  # a Thursday


@pytest.mark.parametrize(("schedule", "expected"), [
    ("*/5 * * * *", dt.datetime(2026, 1, 1, 10, 10, tzinfo=dt.UTC)),
    ("@hourly", dt.datetime(2026, 1, 1, 11, 0, tzinfo=dt.UTC)),
    ("0 0 * * *", dt.datetime(2026, 1, 2, 0, 0, tzinfo=dt.UTC)),
    ("30 9 * * mon-fri", dt.datetime(2026, 1, 2, 9, 30, tzinfo=dt.UTC)),
    ("0 12 1 feb *", dt.datetime(2026, 2, 1, 12, 0, tzinfo=dt.UTC)),
    ("0 0 13 * 5", dt.datetime(2026, 1, 2, 0, 0, tzinfo=dt.UTC)),  # OR: Friday the 2nd comes first
    ("7 10 * * *", dt.datetime(2026, 1, 2, 10, 7, tzinfo=dt.UTC)),  # strictly after
])
def test_next_activation(schedule: str, expected: dt.datetime) -> None:
    assert parse(schedule).next_after(T0) == expected


def test_time_zone() -> None:
    schedule = parse("0 9 * * *", "Europe/Paris")
    assert schedule.next_after(T0) == dt.datetime(2026, 1, 2, 8, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize("bad", ["* * * *", "61 * * * *", "* * * * mon-xyz", "@sometimes", "TZ=UTC * * * * *",
                                 "*/0 * * * *"])
def test_invalid_schedules(bad: str) -> None:
    with pytest.raises(CronError):
        parse(bad)


def test_missed_times_are_bounded() -> None:
    times = missed_times(parse("* * * * *"), T0 - dt.timedelta(hours=3), T0)
    assert len(times) == 101
