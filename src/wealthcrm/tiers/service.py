"""The branch's tier report for one month: customers and AUM per tier, watch list, migration, churn.

The tier history is recomputed from the first month of AUM data in the database up to the report
month (:func:`~wealthcrm.tiers.matrix.tier_matrix`), so a customer's tier in the first month of data
is the tier that month's AUM meets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from wealthcrm.config import Settings
from wealthcrm.customers.models import Customer
from wealthcrm.holdings.models import AumMonthly
from wealthcrm.tiers.matrix import asset_loss_matrix, customer_loss_matrix, tier_matrix
from wealthcrm.vocab import TIER_ORDER, CustomerStatus

NEW = "new"  # migration row: customers whose first month is the report month
GONE = "gone"  # migration column: customers counted last month and closed before this month


class NoDataForMonth(ValueError):
    """The database holds no AUM for the requested month."""

    def __init__(self, month: date) -> None:
        super().__init__(f"no AUM data for {month:%Y-%m}")
        self.month = month


@dataclass(frozen=True, slots=True)
class Bucket:
    """A number of customers and their month-average AUM (CNY, rounded to cents)."""

    customers: int
    aum: float

    def to_dict(self) -> dict[str, Any]:
        return {"customers": self.customers, "aum": self.aum}


@dataclass(frozen=True, slots=True)
class AssetLossSummary:
    """Asset-loss episodes starting in the month and the CNY amount lost in them."""

    events: int
    amount_lost: float

    def to_dict(self) -> dict[str, Any]:
        return {"events": self.events, "amount_lost": self.amount_lost}


@dataclass(frozen=True, slots=True)
class TierReport:
    """The tier report of one month.

    ``tiers`` maps each tier name (mass → private) to its customers and AUM by effective tier;
    ``watch`` is the watch list; ``migration[row][col]`` counts customers by last month's effective
    tier (row, or ``"new"``) and this month's (column, or ``"gone"``), every cell present;
    ``customer_loss`` counts the customers lost this month with their AUM this month; ``asset_loss``
    the asset-loss episodes starting this month.
    """

    month: date
    previous_month: date | None
    tiers: dict[str, Bucket]
    total: Bucket
    watch: Bucket
    migration: dict[str, dict[str, int]]
    customer_loss: Bucket
    asset_loss: AssetLossSummary

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (dates as ISO strings)."""
        return {
            "month": self.month.isoformat(),
            "previous_month": self.previous_month.isoformat() if self.previous_month else None,
            "tiers": {name: b.to_dict() for name, b in self.tiers.items()},
            "total": self.total.to_dict(),
            "watch": self.watch.to_dict(),
            "migration": {row: dict(cols) for row, cols in self.migration.items()},
            "customer_loss": self.customer_loss.to_dict(),
            "asset_loss": self.asset_loss.to_dict(),
        }


def _month_number(d: date) -> int:
    return d.year * 12 + d.month - 1


def _month_start(number: int) -> date:
    return date(number // 12, number % 12 + 1, 1)


def _bucket(mask: np.ndarray[Any, np.dtype[np.bool_]], aum: np.ndarray[Any, np.dtype[np.float64]]) -> Bucket:
    return Bucket(int(mask.sum()), round(float(aum[mask].sum()), 2))


def tier_report(
    session_or_connection: Session | Connection, *, month: date, settings: Settings
) -> TierReport:
    """The tier report for the calendar month containing ``month``.

    Total AUM of a customer-month is the sum of ``avg_daily_balance`` over asset classes; a month
    without rows after the customer's first month counts 0. Customers closed (status ``closed``)
    with ``closed_on`` before a month's first day are left out of that month. Raises
    :class:`NoDataForMonth` when the month has no AUM rows.
    """
    conn = session_or_connection
    report_no = _month_number(month)
    end = _month_start(report_no + 1)
    total_aum = func.sum(AumMonthly.avg_daily_balance).label("aum")
    stmt = (
        select(AumMonthly.customer_id, AumMonthly.month, total_aum)
        .where(AumMonthly.month < end)
        .group_by(AumMonthly.customer_id, AumMonthly.month)
    )
    result = conn.execute(stmt).all()
    cids = np.array([r[0] for r in result], dtype=object)
    month_nos = np.array([_month_number(r[1]) for r in result], dtype=np.int64)
    values = np.array([float(r[2] or 0.0) for r in result], dtype=np.float64)
    if not (month_nos == report_no).any():
        raise NoDataForMonth(_month_start(report_no))

    first_no = int(month_nos.min())
    months = report_no - first_no + 1
    codes, uniques = pd.factorize(cids, sort=True)
    ids = list(uniques)
    row_of = {cid: i for i, cid in enumerate(ids)}
    aum = np.full((len(ids), months), np.nan)
    aum[codes, month_nos - first_no] = values  # one row per (customer, month): GROUP BY made it so

    # Month index of closing, relative to the first data month; a huge number when not closed.
    never = np.iinfo(np.int64).max
    closed_raw = np.full(len(ids), never, dtype=np.int64)
    closed_stmt = select(Customer.customer_id, Customer.closed_on).where(
        Customer.status == CustomerStatus.closed, Customer.closed_on.is_not(None)
    )
    for cid, closed_on in conn.execute(closed_stmt):
        if cid in row_of and closed_on is not None:
            closed_raw[row_of[cid]] = _month_number(closed_on) - first_no
    in_window = (closed_raw >= 0) & (closed_raw < months)
    closed_idx = np.where(in_window, closed_raw, -1)

    tiers = tier_matrix(aum, settings.tiers)
    t = months - 1
    # Counted in month i: a customer from the first month on, and not closed before month i began.
    counted = tiers.started & (closed_raw[:, None] >= np.arange(months)[None, :])
    now = counted[:, t]
    aum_now = np.nan_to_num(aum[:, t])

    tier_now = tiers.tier[:, t]
    by_tier = {tier.value: _bucket(now & (tier_now == k), aum_now) for k, tier in enumerate(TIER_ORDER)}
    lost = customer_loss_matrix(tiers.tier, closed_idx, settings.churn)[:, t] & now
    assets = asset_loss_matrix(aum, settings.churn)
    asset_events = assets.event[:, t] & now

    # Migration cells: tier codes 0..4, and 5 for the "new" row / "gone" column.
    extra = len(TIER_ORDER)
    before = counted[:, t - 1] if t > 0 else np.zeros(len(ids), dtype=np.bool_)
    tier_before = tiers.tier[:, t - 1] if t > 0 else tier_now
    either = before | now
    cells = np.zeros((extra + 1, extra + 1), dtype=np.int64)
    np.add.at(
        cells,
        (np.where(before, tier_before, extra)[either], np.where(now, tier_now, extra)[either]),
        1,
    )
    rows_names = [*(tier.value for tier in TIER_ORDER), NEW]
    col_names = [*(tier.value for tier in TIER_ORDER), GONE]
    migration = {r: {c: int(cells[i, j]) for j, c in enumerate(col_names)} for i, r in enumerate(rows_names)}

    return TierReport(
        month=_month_start(report_no),
        previous_month=_month_start(report_no - 1) if t > 0 else None,
        tiers=by_tier,
        total=_bucket(now, aum_now),
        watch=_bucket(now & tiers.watch[:, t], aum_now),
        migration=migration,
        customer_loss=_bucket(lost, aum_now),
        asset_loss=AssetLossSummary(
            int(asset_events.sum()), round(float(assets.amount_lost[asset_events, t].sum()), 2)
        ),
    )
