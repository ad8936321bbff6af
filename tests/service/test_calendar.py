"""Business-time arithmetic on the National Day 2025 calendar, against cases worked by hand.

September–October 2025 (Beijing time, business hours 09:00–17:00, 8 h a day):

    Fri 09-19  Sat 20 off  Sun 21 off  Mon 22 … Fri 26  Sat 27 off  Sun 28 WORK (make-up)
    Mon 29  Tue 30  Wed 10-01 … Wed 10-08 public holiday  Thu 09  Fri 10  Sat 11 WORK (make-up)  Sun 12 off
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from wealthcrm.config import SlaSettings
from wealthcrm.service.calendar import WorkingCalendar, add_business_time, business_time_between

from .data import CALENDAR, bj


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        # inside one day: 10:00 + 2 h = 12:00
        (bj(2025, 9, 22, 10), 2, bj(2025, 9, 22, 12)),
        # Fri 16:00 + 2 h: 1 h Friday (16–17), Sat/Sun off, 1 h Monday from 09:00 → Mon 10:00
        (bj(2025, 9, 19, 16), 2, bj(2025, 9, 22, 10)),
        # Fri 16:30 + 16 h: 0.5 h Fri, Sat off, make-up Sun 28: 8 h (7.5 left), Mon 29 09:00 + 7.5 h → 16:30
        (bj(2025, 9, 26, 16, 30), 16, bj(2025, 9, 29, 16, 30)),
        # Tue 30 15:00 + 16 h (a sunflower complaint): 2 h Tue (14 left), Oct 1–8 holidays,
        # Thu 9: 8 h (6 left), Fri 10 09:00 + 6 h → 15:00
        (bj(2025, 9, 30, 15), 16, bj(2025, 10, 10, 15)),
        # a day used up exactly ends at closing time, not at the next opening
        (bj(2025, 10, 9, 9), 8, bj(2025, 10, 9, 17)),
        # opened Fri 20:00 (after hours): counting starts at the next opening, make-up Sat 11 09:00 → 11:00
        (bj(2025, 10, 10, 20), 2, bj(2025, 10, 11, 11)),
        # opened on a public holiday (Fri Oct 3): counting starts Thu Oct 9 09:00 → 11:00
        (bj(2025, 10, 3, 10), 2, bj(2025, 10, 9, 11)),
        # opened before opening time, 07:30 → counts from 09:00; 1.5 h → 10:30
        (bj(2025, 9, 23, 7, 30), 1.5, bj(2025, 9, 23, 10, 30)),
        # make-up Sat 11 16:00 + 2 h: 1 h Sat, Sun 12 off, Mon 13 09:00 + 1 h → 10:00
        (bj(2025, 10, 11, 16), 2, bj(2025, 10, 13, 10)),
        # 40 h (a gold complaint) from Mon 22 09:00: Mon–Fri 22–26 are exactly 5 × 8 h → Fri 26 17:00
        (bj(2025, 9, 22, 9), 40, bj(2025, 9, 26, 17)),
    ],
)
def test_add_business_time_matches_hand_worked_cases(start: datetime, hours: float, due: datetime) -> None:
    assert CALENDAR.add_business_time(start, hours) == due
    assert add_business_time(CALENDAR, start, hours) == due
    # and back: the business time between start and due is what was added
    assert CALENDAR.business_hours_between(start, due) == pytest.approx(hours)


@pytest.mark.parametrize(
    ("a", "b", "hours"),
    [
        # Tue 30 15:00 → Fri Oct 10 15:00: 2 (Tue) + 0 (holidays) + 8 (Thu 9) + 6 (Fri) = 16
        (bj(2025, 9, 30, 15), bj(2025, 10, 10, 15), 16),
        # Sat 20 10:00 → Sun 21 18:00: a weekend, nothing
        (bj(2025, 9, 20, 10), bj(2025, 9, 21, 18), 0),
        # Sat 27 (off) 12:00 → Sun 28 (make-up) 12:00: 3 h on Sunday
        (bj(2025, 9, 27, 12), bj(2025, 9, 28, 12), 3),
        # Mon 22 15:00 → Tue 23 11:00: 2 h + 2 h = 4
        (bj(2025, 9, 22, 15), bj(2025, 9, 23, 11), 4),
        # backwards is zero
        (bj(2025, 9, 23, 11), bj(2025, 9, 22, 15), 0),
    ],
)
def test_business_time_between(a: datetime, b: datetime, hours: float) -> None:
    assert CALENDAR.business_time_between(a, b) == timedelta(hours=hours)
    assert business_time_between(CALENDAR, a, b) == timedelta(hours=hours)


def test_stored_times_are_utc_and_local_time_is_beijing() -> None:
    # 2025-09-22 00:30 UTC is 08:30 in Beijing: the clock starts at 09:00 Beijing (01:00 UTC)
    assert CALENDAR.add_business_time(datetime(2025, 9, 22, 0, 30), 1) == datetime(2025, 9, 22, 2, 0)
    assert CALENDAR.local_date(datetime(2025, 9, 21, 16, 0)) == date(2025, 9, 22)  # 00:00 Monday in Beijing


def test_working_days() -> None:
    assert CALENDAR.is_working_day(date(2025, 9, 28))  # a Sunday, but a make-up working day
    assert not CALENDAR.is_working_day(date(2025, 10, 6))  # a Monday in the holiday
    assert not CALENDAR.is_working_day(date(2025, 10, 12))
    assert CALENDAR.next_working_day(date(2025, 9, 30)) == date(2025, 10, 9)
    assert CALENDAR.is_business_time(bj(2025, 10, 11, 9))
    assert not CALENDAR.is_business_time(bj(2025, 10, 11, 17))


def test_zero_and_negative() -> None:
    start = bj(2025, 9, 20, 12)  # a Saturday: zero hours later is still the start
    assert CALENDAR.add_business_time(start, 0) == start
    with pytest.raises(ValueError, match="negative"):
        CALENDAR.add_business_time(start, -1)


def test_other_business_hours_and_settings() -> None:
    sla = SlaSettings(
        business_start=time(8, 30), business_end=time(12, 0), public_holidays=[date(2025, 9, 23)]
    )
    cal = WorkingCalendar.from_settings(sla)
    # Mon 22 11:00 + 2 h: 1 h Monday (to 12:00), Tue 23 holiday, Wed 24 08:30 + 1 h → 09:30
    assert cal.add_business_time(bj(2025, 9, 22, 11), 2) == bj(2025, 9, 24, 9, 30)


def test_settings_refuse_a_day_both_off_and_on() -> None:
    with pytest.raises(ValueError, match="both holiday"):
        SlaSettings(public_holidays=[date(2025, 9, 28)], makeup_workdays=[date(2025, 9, 28)])
    with pytest.raises(ValueError, match="time zone"):
        SlaSettings(time_zone="Mars/Olympus")
