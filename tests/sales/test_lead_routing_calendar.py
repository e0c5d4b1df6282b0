"""Working-time arithmetic: nights, weekends, holidays and make-up working days."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guanxi.sales.lead_routing.calendar import BusinessCalendar, NoWorkingTime

SHANGHAI = ZoneInfo("Asia/Shanghai")
# National Day 2026: 1–7 October off, Saturday 10 October worked in exchange (调休)
CALENDAR = BusinessCalendar(
    time_zone=SHANGHAI,
    weekdays=frozenset(range(5)),
    start=dt.time(9, 0),
    end=dt.time(18, 0),
    holidays=frozenset(dt.date(2026, 10, d) for d in range(1, 8)),
    extra_workdays=frozenset({dt.date(2026, 10, 10)}),
)


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("start", "minutes", "due"),
    [
        # inside the day
        (at(2026, 12, 1, 10, 0), 240, at(2026, 12, 1, 14, 0)),
        # submitted at night: the clock starts at 09:00 the next morning
        (at(2026, 12, 1, 23, 30), 240, at(2026, 12, 2, 13, 0)),
        # before opening
        (at(2026, 12, 2, 7, 0), 60, at(2026, 12, 2, 10, 0)),
        # Friday 17:00: one hour on Friday, three on Monday
        (at(2026, 12, 4, 17, 0), 240, at(2026, 12, 7, 12, 0)),
        # ending exactly at closing time stays on that day
        (at(2026, 12, 4, 14, 0), 240, at(2026, 12, 4, 18, 0)),
        # Saturday: waits for Monday
        (at(2026, 12, 5, 11, 0), 240, at(2026, 12, 7, 13, 0)),
        # the day before National Day, 16:00: two hours on 30 September, the holiday
        # week off, two hours on Thursday 8 October
        (at(2026, 9, 30, 16, 0), 240, at(2026, 10, 8, 11, 0)),
        # on a holiday
        (at(2026, 10, 3, 10, 0), 60, at(2026, 10, 8, 10, 0)),
        # on the make-up Saturday itself
        (at(2026, 10, 10, 10, 0), 240, at(2026, 10, 10, 14, 0)),
        # Friday 9 October 17:00 runs into the make-up Saturday, not to Monday
        (at(2026, 10, 9, 17, 0), 240, at(2026, 10, 10, 12, 0)),
        # several days
        (at(2026, 12, 1, 9, 0), 3 * 540, at(2026, 12, 3, 18, 0)),
    ],
)
def test_add_working_minutes(start, minutes, due):
    assert CALENDAR.add_working_minutes(start, minutes) == due.astimezone(dt.UTC)
    assert CALENDAR.working_minutes_between(start, due) == minutes


def test_utc_input_and_output():
    start = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai
    due = CALENDAR.add_working_minutes(start, 30)
    assert due.tzinfo == dt.UTC and due == dt.datetime(2026, 12, 1, 2, 30, tzinfo=dt.UTC)


def test_working_minutes_between_skips_nights_and_is_zero_backwards():
    assert CALENDAR.working_minutes_between(at(2026, 12, 4, 17, 0), at(2026, 12, 7, 10, 0)) == 120
    assert CALENDAR.working_minutes_between(at(2026, 12, 7, 10, 0), at(2026, 12, 4, 17, 0)) == 0


def test_daylight_saving_time_counts_the_wall_clock():
    berlin = BusinessCalendar(
        time_zone=ZoneInfo("Europe/Berlin"), weekdays=frozenset(range(7)),
        start=dt.time(9, 0), end=dt.time(17, 0),
    )  # fmt: skip
    # clocks go forward on Sunday 29 March 2026; Saturday 16:00 + 2 h = Sunday 10:00 local
    start = dt.datetime(2026, 3, 28, 16, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    due = berlin.add_working_minutes(start, 120)
    assert due.astimezone(ZoneInfo("Europe/Berlin")).replace(tzinfo=None) == dt.datetime(
        2026, 3, 29, 10, 0
    )


def test_no_working_day_is_an_error():
    closed = BusinessCalendar(time_zone=SHANGHAI, weekdays=frozenset(), start=dt.time(9),
                              end=dt.time(18))  # fmt: skip
    with pytest.raises(NoWorkingTime):
        closed.add_working_minutes(at(2026, 12, 1, 10, 0), 60)


@settings(max_examples=200, deadline=None)
@given(
    start=st.datetimes(min_value=dt.datetime(2026, 9, 1), max_value=dt.datetime(2026, 12, 31)),
    minutes=st.integers(min_value=0, max_value=5000),
)
def test_adding_then_counting_gives_the_minutes_back(start, minutes):
    start = start.replace(second=0, microsecond=0, tzinfo=SHANGHAI)
    due = CALENDAR.add_working_minutes(start, minutes)
    assert due >= start
    assert CALENDAR.working_minutes_between(start, due) == minutes
    local = due.astimezone(SHANGHAI)
    if minutes:
        assert CALENDAR.is_working_day(local.date())
        assert dt.time(9, 0) < local.time() <= dt.time(18, 0)
