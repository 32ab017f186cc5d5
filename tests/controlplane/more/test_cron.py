"""Cron schedules as the CronJob controller reads them (robfig/cron v3 ParseStandard semantics):
the corners beyond tests/controlplane/controllers/test_cron.py — steps from a start, name lists,
every descriptor, leap days, daylight saving, and the order of missed times."""

from __future__ import annotations

import datetime as dt

import pytest

from kwok.controlplane.controllers import cron


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


@pytest.mark.parametrize(("schedule", "after", "expected"), [
    ("*/15 * * * *", "2026-03-02T10:15:00", "2026-03-02T10:30:00"),  # strictly after
    ("5/15 * * * *", "2026-03-02T10:21:00", "2026-03-02T10:35:00"),  # a/step means a-max/step
    ("0 9 * * 1-5", "2026-03-06T10:00:00", "2026-03-09T09:00:00"),  # Friday -> Monday
    ("0 9 * * MON-FRI", "2026-03-07T08:00:00", "2026-03-09T09:00:00"),
    ("30 2 1 JAN,jul *", "2026-03-02T00:00:00", "2026-07-01T02:30:00"),
    ("@weekly", "2026-03-02T10:00:00", "2026-03-08T00:00:00"),  # Sunday
    ("@monthly", "2026-03-02T10:00:00", "2026-04-01T00:00:00"),
    ("@yearly", "2026-03-02T10:00:00", "2027-01-01T00:00:00"),
    ("0 0 29 2 *", "2026-03-02T10:00:00", "2028-02-29T00:00:00"),  # next leap day
])
def test_next_activation(schedule: str, after: str, expected: str) -> None:
    assert cron.parse(schedule).next_after(at(after)) == at(expected)


def test_day_of_month_and_weekday_are_ored_when_both_restricted() -> None:
    # the 13th, or any Friday: 2026-03-06 is a Friday before the 13th
    schedule = cron.parse("0 0 13 * 5")
    assert schedule.next_after(at("2026-03-02T00:00:00")) == at("2026-03-06T00:00:00")
    assert schedule.next_after(at("2026-03-06T00:00:00")) == at("2026-03-13T00:00:00")
    # with a * day-of-month only the weekday restricts
    assert cron.parse("0 0 * * 5").next_after(at("2026-03-06T00:00:00")) == at("2026-03-13T00:00:00")


def test_time_zone_follows_daylight_saving() -> None:
    schedule = cron.parse("0 9 * * *", "America/New_York")
    assert schedule.next_after(at("2026-01-15T00:00:00")) == at("2026-01-15T14:00:00")  # EST, UTC-5
    assert schedule.next_after(at("2026-07-15T00:00:00")) == at("2026-07-15T13:00:00")  # EDT, UTC-4


@pytest.mark.parametrize("schedule", ["61 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * *",
                                      "* * * * * *", "*/0 * * * *", "a * * * *", "@every-day", "5-1 * * * *"])
def test_invalid_schedules_raise(schedule: str) -> None:
    with pytest.raises(cron.CronError):
        cron.parse(schedule)


def test_unknown_time_zone_raises() -> None:
    with pytest.raises(cron.CronError):
        cron.parse("* * * * *", "Mars/Olympus_Mons")


def test_missed_times_are_bounded_and_in_order() -> None:
    schedule = cron.parse("*/10 * * * *")
    missed = cron.missed_times(schedule, at("2026-03-02T10:00:00"), at("2026-03-02T10:45:00"))
    assert missed == [at("2026-03-02T10:10:00"), at("2026-03-02T10:20:00"), at("2026-03-02T10:30:00"),
                      at("2026-03-02T10:40:00")]
