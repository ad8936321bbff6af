"""Questions about stored holdings that several screens ask: which months have AUM data."""

from __future__ import annotations

from datetime import date
from typing import cast

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from wealthcrm.holdings.models import AumMonthly


def latest_month(session: Session | Connection) -> date | None:
    """The last month (its first day) with any AUM row, or None when no AUM is stored."""
    return session.execute(select(func.max(AumMonthly.month))).scalar_one_or_none()


def month_range(session: Session | Connection) -> tuple[date, date] | None:
    """The first and last month with AUM rows, or None when no AUM is stored.

    Both ends come from the month index (MIN/MAX), so this stays fast on a bank's billions of rows,
    where ``SELECT DISTINCT month`` would read the whole index.
    """
    row = session.execute(select(func.min(AumMonthly.month), func.max(AumMonthly.month))).one()
    first, last = cast("tuple[date | None, date | None]", tuple(row))  # MIN/MAX of no rows are NULL
    if first is None or last is None:
        return None
    return first, last
