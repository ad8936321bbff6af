"""The branch manager's views of the churn issue, as library functions over the tier history.

- :func:`migration_matrices`: tier migration between consecutive months (same cells as the tier report);
- :func:`~wealthcrm.analytics.survival.retention_curves`: Kaplan–Meier retention of sunflower+ customers;
- :func:`value_potential_grid`: customers and AUM by value (tier) × potential (low/medium/high);
- :func:`~wealthcrm.analytics.segments.behaviour_segments`: KMeans behaviour segments with profiles.

All take the :func:`~wealthcrm.analytics.tiering.tier_history` of the extracted tables; the pages render
their ``to_dict()``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from wealthcrm.analytics.segments import (
    Segmentation,
    SegmentProfile,
    behaviour_measures,
    behaviour_segments,
    measures_for_month,
)
from wealthcrm.analytics.survival import RetentionCurve, km_curve, retention_curves, retention_spells
from wealthcrm.tiers.service import GONE, NEW, Bucket
from wealthcrm.vocab import TIER_ORDER

__all__ = [
    "GONE",
    "NEW",
    "POTENTIAL_LEVELS",
    "Grid",
    "MigrationMatrix",
    "RetentionCurve",
    "SegmentProfile",
    "Segmentation",
    "behaviour_measures",
    "behaviour_segments",
    "km_curve",
    "migration_matrices",
    "potential_scores",
    "retention_curves",
    "retention_spells",
    "value_potential_grid",
]

TIERS: tuple[str, ...] = tuple(t.value for t in TIER_ORDER)
POTENTIAL_LEVELS: tuple[str, ...] = ("low", "medium", "high")


def _month_start(value: date | pd.Timestamp) -> pd.Timestamp:
    return pd.Timestamp(value).normalize().replace(day=1)


# --- tier migration -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MigrationMatrix:
    """Customers by last month's effective tier (row, or ``"new"``: not counted last month) and this
    month's (column, or ``"gone"``: closed before this month); every cell present, as in
    :attr:`wealthcrm.tiers.service.TierReport.migration`."""

    month: date
    previous_month: date | None
    counts: dict[str, dict[str, int]]

    @property
    def rows(self) -> list[str]:
        return list(self.counts)

    @property
    def columns(self) -> list[str]:
        return list(next(iter(self.counts.values())))

    def to_dict(self) -> dict[str, Any]:
        return {
            "month": self.month.isoformat(),
            "previous_month": self.previous_month.isoformat() if self.previous_month else None,
            "rows": self.rows,
            "columns": self.columns,
            "counts": {row: dict(cols) for row, cols in self.counts.items()},
        }


def migration_matrices(
    history: pd.DataFrame, *, months: Iterable[date | pd.Timestamp] | None = None
) -> list[MigrationMatrix]:
    """The migration matrix of each month against the month before, in month order.

    ``months`` defaults to every month of ``history`` but the first; asking for the first month gives
    its matrix with every customer in the ``"new"`` row (``previous_month`` None), as the tier report
    does. A customer counted in the previous month and absent in this one is ``"gone"`` (the history
    stops at the closing month).
    """
    all_months = pd.DatetimeIndex(sorted(pd.to_datetime(history["month"]).unique()))
    if len(all_months) == 0:
        return []
    wanted = all_months[1:] if months is None else pd.DatetimeIndex(sorted({_month_start(m) for m in months}))
    missing = wanted.difference(all_months)
    if len(missing):
        raise ValueError(f"months not in the history: {', '.join(f'{m:%Y-%m}' for m in missing)}")
    row_names, col_names = [*TIERS, NEW], [*TIERS, GONE]
    # Wide: customer × month → tier code (0..4), NaN where the customer is not counted that month.
    code = pd.Categorical(history["tier"], categories=TIERS).codes.astype("float64")
    wide = (
        pd.DataFrame({"customer_id": history["customer_id"], "month": history["month"], "code": code})
        .pivot(index="customer_id", columns="month", values="code")
        .reindex(columns=all_months)
    )
    extra = len(TIERS)
    out = []
    for month in wanted:
        pos = all_months.get_loc(month)
        assert isinstance(pos, int)
        now = wide.iloc[:, pos].to_numpy()
        before = wide.iloc[:, pos - 1].to_numpy() if pos > 0 else np.full(len(wide), np.nan)
        either = ~(np.isnan(now) & np.isnan(before))
        r = np.where(np.isnan(before), extra, np.nan_to_num(before)).astype(np.int64)[either]
        c = np.where(np.isnan(now), extra, np.nan_to_num(now)).astype(np.int64)[either]
        cells = np.zeros((extra + 1, extra + 1), dtype=np.int64)
        np.add.at(cells, (r, c), 1)
        out.append(
            MigrationMatrix(
                month=month.date(),
                previous_month=all_months[pos - 1].date() if pos > 0 else None,
                counts={
                    rn: {cn: int(cells[i, j]) for j, cn in enumerate(col_names)}
                    for i, rn in enumerate(row_names)
                },
            )
        )
    return out


# --- value × potential --------------------------------------------------------------------------------

#: measure → how it enters the potential score (each as its percentile rank among the month's customers).
POTENTIAL_COMPONENTS: dict[str, str] = {
    "aum_chg_6m": "AUM growth over 6 months (unknown → the middle rank 0.5)",
    "open_positions": "Product breadth: open holdings at month end",
    "logins_3m": "Digital engagement: mobile/online logins a month, 3-month average",
}


@dataclass(frozen=True, slots=True, eq=False)
class Grid:
    """Customers and AUM of one month by value (effective tier, rows) × potential (columns).

    ``customers`` holds one row per customer: customer_id, tier, aum, potential_score, potential.
    """

    month: date
    cells: dict[str, dict[str, Bucket]]
    total: Bucket
    customers: pd.DataFrame = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "month": self.month.isoformat(),
            "rows": list(self.cells),
            "columns": list(POTENTIAL_LEVELS),
            "cells": {r: {c: b.to_dict() for c, b in cols.items()} for r, cols in self.cells.items()},
            "total": self.total.to_dict(),
            "potential_components": dict(POTENTIAL_COMPONENTS),
        }


def potential_scores(measures: pd.DataFrame) -> pd.DataFrame:
    """``potential_score`` in [0, 1] and ``potential`` (low/medium/high) for each row of ``measures``.

    The score is the mean of the percentile ranks (ties averaged) of :data:`POTENTIAL_COMPONENTS` among
    the rows given; the levels are its tertiles, made equal-sized by breaking ties in row order (sort
    the rows, e.g. by customer id, for a reproducible split).
    """
    ranks = pd.DataFrame(
        {name: measures[name].astype("float64").rank(pct=True) for name in POTENTIAL_COMPONENTS}
    ).fillna(0.5)
    score = ranks.mean(axis=1)
    order = score.rank(method="first")
    levels = pd.qcut(order, 3, labels=list(POTENTIAL_LEVELS)) if len(score) >= 3 else None
    potential = (
        pd.Series(levels, index=measures.index).astype("object")
        if levels is not None
        else pd.Series(["medium"] * len(score), index=measures.index, dtype="object")
    )
    return pd.DataFrame({"potential_score": score, "potential": potential}, index=measures.index)


def value_potential_grid(
    history: pd.DataFrame,
    features_or_tables: pd.DataFrame | dict[str, pa.Table],
    month: date | pd.Timestamp,
) -> Grid:
    """The value × potential grid of the customers counted in ``month``.

    **Value** is the customer's effective tier that month (mass … private: the AUM band the tier rules
    give). **Potential** is a score from what the data holds, the mean of three percentile ranks among
    the month's customers — AUM growth over 6 months, number of open holdings and logins a month
    (:data:`POTENTIAL_COMPONENTS`) — cut into tertiles low / medium / high (a third of the customers
    each). Age is left out on purpose: its link to potential is not monotone.

    ``features_or_tables`` is either a frame with customer_id, the component columns and optionally
    month (e.g. :func:`~wealthcrm.analytics.features.build_features` or
    :func:`~wealthcrm.analytics.segments.behaviour_measures`), or the extracted tables, from which the
    measures are computed. Cell counts add up to the month's customers in ``history``.
    """
    m = _month_start(month)
    now = history.loc[pd.to_datetime(history["month"]) == m, ["customer_id", "tier", "aum"]]
    if now.empty:
        raise ValueError(f"no customers in the history for {m:%Y-%m}")
    measures = measures_for_month(history, features_or_tables, m, list(POTENTIAL_COMPONENTS))
    frame = now.merge(measures, on="customer_id", how="left").sort_values("customer_id", kind="stable")
    frame = frame.reset_index(drop=True)
    frame = pd.concat([frame, potential_scores(frame)], axis=1)
    sizes = frame.groupby(["tier", "potential"], observed=True)["aum"].agg(["size", "sum"])
    cells = {
        tier: {
            level: Bucket(
                int(sizes["size"].get((tier, level), 0)),
                round(float(sizes["sum"].get((tier, level), 0.0)), 2),
            )
            for level in POTENTIAL_LEVELS
        }
        for tier in TIERS
    }
    total = Bucket(len(frame), round(float(frame["aum"].sum()), 2))
    cols = ["customer_id", "tier", "aum", "potential_score", "potential"]
    return Grid(month=m.date(), cells=cells, total=total, customers=frame[cols])
