"""Months as the reports count them: month numbers, bounds in the branch's local time, ``YYYY-MM``."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from wealthcrm.errors import Invalid

MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


def mno(d: date) -> int:
    """A month as a number (year × 12 + month − 1), so months add and subtract."""
    return d.year * 12 + d.month - 1


def month_of(n: int) -> date:
    """The first day of month number ``n``."""
    return date(n // 12, n % 12 + 1, 1)


def parse_month(text: str) -> date:
    """``YYYY-MM`` as the month's first day; :class:`Invalid` for anything else."""
    match = MONTH_RE.match(text or "")
    if match is None or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1900:
        raise Invalid(f"month: {text!r} is not a month; use YYYY-MM, e.g. 2026-10")
    return date(int(match.group(1)), int(match.group(2)), 1)


def utc_bounds(month: date, time_zone: str) -> tuple[datetime, datetime]:
    """The month's first instant and the next month's, local to ``time_zone``, as naive UTC (the form
    timestamps are stored in)."""
    zone = ZoneInfo(time_zone)

    def start(d: date) -> datetime:
        return datetime(d.year, d.month, 1, tzinfo=zone).astimezone(UTC).replace(tzinfo=None)

    return start(month), start(month_of(mno(month) + 1))
