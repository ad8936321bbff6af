"""The branch's working calendar and business-time arithmetic (pure: no database, no wall clock).

A *working day* is a Monday–Friday that is not a public holiday, or a make-up working day (调休上班日,
e.g. the Saturday China works before a long holiday). *Business time* runs only inside business hours
(``start``–``end``, local time) of working days. SLA clocks count business time.

Timestamps in and out are the project's stored convention: naive datetimes in UTC. An aware datetime
is accepted too (converted). Local time is ``time_zone`` (Asia/Shanghai by default): a request opened at
01:00 UTC was opened at 09:00 in Beijing.

Written by hand: the libraries that count business hours (``businesstimedelta``, ``workalendar``) do
not model make-up working days as configurable data, and the arithmetic is a few lines.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from wealthcrm.config import SlaSettings
from wealthcrm.db import to_local, to_utc

#: give up looking for the next working day after this many calendar days (a calendar without any)
MAX_SCAN_DAYS = 3660
ZERO = timedelta(0)


@dataclass(frozen=True)
class WorkingCalendar:
    start: time = time(9, 0)
    end: time = time(17, 0)
    holidays: frozenset[date] = field(default_factory=frozenset)
    makeup_workdays: frozenset[date] = field(default_factory=frozenset)
    time_zone: str = "Asia/Shanghai"

    def __post_init__(self) -> None:
        if self.start >= self.end:
            raise ValueError("business hours must start before they end")

    @classmethod
    def from_settings(cls, sla: SlaSettings) -> WorkingCalendar:
        return cls(
            start=sla.business_start,
            end=sla.business_end,
            holidays=frozenset(sla.public_holidays),
            makeup_workdays=frozenset(sla.makeup_workdays),
            time_zone=sla.time_zone,
        )

    @classmethod
    def of(
        cls,
        *,
        holidays: Iterable[date] = (),
        makeup_workdays: Iterable[date] = (),
        start: time = time(9, 0),
        end: time = time(17, 0),
        time_zone: str = "Asia/Shanghai",
    ) -> WorkingCalendar:
        return cls(start, end, frozenset(holidays), frozenset(makeup_workdays), time_zone)

    # --- local time ----------------------------------------------------------------------------------
    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def to_local(self, at: datetime) -> datetime:
        """A stored (naive UTC) or aware datetime as naive local time."""
        if at.tzinfo is None:
            return to_local(at, self.time_zone)
        return at.astimezone(self.zone).replace(tzinfo=None)

    def to_utc(self, local: datetime) -> datetime:
        """Naive local time as a naive UTC datetime (the stored convention)."""
        return to_utc(local, self.time_zone)

    def local_date(self, at: datetime) -> date:
        return self.to_local(at).date()

    # --- days ----------------------------------------------------------------------------------------
    def is_working_day(self, day: date) -> bool:
        if day in self.makeup_workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def next_working_day(self, day: date) -> date:
        """The first working day after ``day``."""
        for n in range(1, MAX_SCAN_DAYS):
            candidate = day + timedelta(days=n)
            if self.is_working_day(candidate):
                return candidate
        raise ValueError("the working calendar has no working day in ten years")

    def _opening(self, day: date) -> datetime:
        return datetime.combine(day, self.start)

    def _closing(self, day: date) -> datetime:
        return datetime.combine(day, self.end)

    # --- business time -------------------------------------------------------------------------------
    def add_business_time(self, start: datetime, hours: float | timedelta) -> datetime:
        """The instant ``hours`` of business time after ``start`` (naive UTC in and out).

        Counting begins at ``start`` if it is inside business hours, else at the next opening. A due
        time that uses up a day exactly is that day's closing time (17:00), not the next opening.
        ``hours=0`` returns ``start`` unchanged.
        """
        left = hours if isinstance(hours, timedelta) else timedelta(hours=hours)
        if left < ZERO:
            raise ValueError("business time to add must not be negative")
        if left == ZERO:
            return self.to_utc(self.to_local(start))
        cursor = self.to_local(start)
        for _ in range(MAX_SCAN_DAYS * 2):
            day = cursor.date()
            if not self.is_working_day(day) or cursor >= self._closing(day):
                cursor = self._opening(self.next_working_day(day))
                continue
            cursor = max(cursor, self._opening(day))
            available = self._closing(day) - cursor
            if left <= available:
                return self.to_utc(cursor + left)
            left -= available
            cursor = self._opening(self.next_working_day(day))
        raise ValueError("business time too far ahead")

    def business_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Business time from ``a`` to ``b`` (zero when ``b`` is not after ``a``)."""
        la, lb = self.to_local(a), self.to_local(b)
        if lb <= la:
            return ZERO
        total = ZERO
        day = la.date()
        while day <= lb.date():
            if self.is_working_day(day):
                lo = max(la, self._opening(day))
                hi = min(lb, self._closing(day))
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return total

    def business_hours_between(self, a: datetime, b: datetime) -> float:
        return self.business_time_between(a, b) / timedelta(hours=1)

    def is_business_time(self, at: datetime) -> bool:
        local = self.to_local(at)
        return self.is_working_day(local.date()) and self._opening(local.date()) <= local < self._closing(
            local.date()
        )


def add_business_time(calendar: WorkingCalendar, start: datetime, hours: float | timedelta) -> datetime:
    """Module-level spelling of :meth:`WorkingCalendar.add_business_time`."""
    return calendar.add_business_time(start, hours)


def business_time_between(calendar: WorkingCalendar, a: datetime, b: datetime) -> timedelta:
    """Module-level spelling of :meth:`WorkingCalendar.business_time_between`."""
    return calendar.business_time_between(a, b)
