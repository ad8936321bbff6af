"""Lifecycle stage of every customer-month (SPEC "Lifecycle stages"), from the tier history.

``assign_stages(history, tables, settings)`` takes :func:`~wealthcrm.analytics.tiering.tier_history`
and the extracted tables and returns one row per history row: ``customer_id``, ``month``, ``stage``.
Vectorised over all customers (group-wise shifts and cumulative sums, no per-customer loop).

The first rule that applies wins, in this order (``L`` = ``lifecycle.declining_lookback_months``,
``N`` = ``lifecycle.onboarding_months``, *floor* = ``churn.customer_loss_min_tier``):

1. ``churned`` — a customer loss happened this month or earlier and the effective tier has not been
   back at or above the floor since (a month with the tier back at the floor ends it); or AUM ≤
   ``churn.zero_aum_max``; or the relationship closed this month (any tier).
2. ``declining`` — on watch; or AUM ≤ (1 − ``lifecycle.declining_drop``) × AUM ``L`` months earlier;
   or activity collapsing: logins + digital transactions below ``alerts.activity_collapse_ratio`` ×
   their average over the 3 previous months (all 3 known and the average > 0; a month for which the
   digital-activity file has no row at all for anyone is unknown, not zero).
3. ``won_back`` — the effective tier came back to the floor or above after a customer loss, fewer
   than ``N`` months ago (the regain month counts as month 0). It sits *before* onboarding, not last
   as the SPEC lists it: a won-back customer is re-onboarding in the regained tier, and the more
   specific label is the useful one for the RM; it lasts exactly the onboarding period. It sits after
   declining because a won-back customer who slips again needs the declining treatment.
4. ``onboarding`` — fewer than ``N`` months since the customer entered the current tier, by
   onboarding (``onboarded_on``) or by an upgrade, whichever is later, with no downgrade since. A
   downgrade does not restart onboarding: the customer is not new to the bank or to the RM.
5. ``growing`` — AUM ≥ (1 + ``lifecycle.growing_rise``) × AUM ``L`` months earlier; or more distinct
   products held at month end than ``L`` months earlier.
6. ``mature`` — none of the above.

Comparisons with ``L`` months earlier need that month in the history (else they do not apply).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from wealthcrm.analytics.tiering import month_index
from wealthcrm.config import Settings
from wealthcrm.vocab import TIER_ORDER, Stage

ACTIVITY_BASELINE_MONTHS = 3
_RANK = {t.value: i for i, t in enumerate(TIER_ORDER)}


class _Runs:
    """Rows sorted by some keys, cut into runs of equal keys; shifts, sums and fills within a run as
    plain numpy on whole columns. At a million customers × 24 months a pandas ``groupby`` on the text
    ids (hashing them again for every operation, and copying the frame to sort it) needed several
    GiB more than these arrays."""

    def __init__(self, *keys: np.ndarray) -> None:
        n = len(keys[0]) if keys else 0
        self.n = n
        start = np.zeros(n, dtype=bool)
        if n:
            start[0] = True
            for key in keys:
                start[1:] |= key[1:] != key[:-1]
        self.start = start
        #: index of the first row of each row's run
        self.first = np.maximum.accumulate(np.where(start, np.arange(n), 0)) if n else np.zeros(0, np.int64)
        self.position = np.arange(n) - self.first

    def shift(self, values: np.ndarray, k: int) -> np.ndarray:
        """The value ``k`` rows earlier in the run (NaN where there is none)."""
        out = np.full(self.n, np.nan)
        if 0 < k < self.n:
            out[k:] = values[:-k]
        out[self.position < k] = np.nan
        return out

    def cumsum(self, values: np.ndarray) -> np.ndarray:
        total = np.cumsum(values)
        return np.asarray(total - (total - values)[self.first])

    def ffill(self, values: np.ndarray) -> np.ndarray:
        """The last non-NaN value in the run up to each row (NaN where none yet)."""
        last = np.maximum.accumulate(np.where(np.isnan(values), -1, np.arange(self.n))) if self.n else values
        seen = last >= self.first
        return np.where(seen, values[np.maximum(last, 0)], np.nan)

    def ever(self, flags: np.ndarray) -> np.ndarray:
        """Whether ``flags`` held at this row or earlier in the run."""
        if not self.n:
            return flags.copy()
        last = np.maximum.accumulate(np.where(flags, np.arange(self.n), -1))
        return np.asarray(last >= self.first)


@dataclass(frozen=True)
class _Sorted:
    """The history sorted by customer and month, with each row's customer code (into ``ids``, the
    sorted distinct customer ids) and month number: everything after works on integers."""

    frame: pd.DataFrame
    codes: np.ndarray
    ids: pd.Index
    month_no: np.ndarray


def _sorted(history: pd.DataFrame | _Sorted, columns: list[str] | None = None) -> _Sorted:
    """The history (only ``columns``, customer_id and month first) sorted by customer and month; not
    copied again when it already is (as :func:`~wealthcrm.analytics.tiering.tier_history` makes it)."""
    if isinstance(history, _Sorted):
        return history
    names = ["customer_id", "month"] + [
        c for c in (history.columns if columns is None else columns) if c not in ("customer_id", "month")
    ]
    out = history[names].reset_index(drop=True)
    out["month"] = pd.to_datetime(out["month"])
    codes, ids = pd.factorize(out["customer_id"], sort=True)
    month_no = _month_no(out["month"]).to_numpy(dtype=np.int64)
    step, month_step = np.diff(codes), np.diff(month_no)
    if not np.all((step > 0) | ((step == 0) & (month_step > 0))):
        order = np.lexsort((month_no, codes))
        out = out.take(order).reset_index(drop=True)
        codes, month_no = codes[order], month_no[order]
    return _Sorted(out, codes.astype(np.int64), pd.Index(ids), month_no)


def _month_no(months: pd.Series) -> pd.Series:
    return cast(pd.Series, months.dt.year * 12 + months.dt.month)


def _row_of(h: _Sorted, table: pa.Table) -> np.ndarray:
    """For each row of ``table`` (customer_id, month), the row of the sorted history holding that
    customer-month, or -1: a binary search on a customer-code × month key, which the sort order makes
    ascending; the codes are found in Arrow, without a Python string per row."""
    if not table.num_rows:
        return np.zeros(0, dtype=np.int64)
    ids = pc.cast(table["customer_id"], pa.string())
    other = pc.index_in(ids, value_set=pa.array(h.ids.to_numpy(), pa.string()))
    other_codes = other.to_numpy(zero_copy_only=False)
    missing = np.isnan(other_codes) if other_codes.dtype.kind == "f" else np.zeros(len(other_codes), bool)
    codes = np.where(missing, -1, np.nan_to_num(other_codes)).astype(np.int64)
    wanted = codes * 100_000 + month_index(table["month"]) + 1
    key = h.codes * 100_000 + h.month_no
    if not len(key):
        return np.full(len(wanted), -1, dtype=np.int64)
    rows = np.minimum(np.searchsorted(key, wanted), len(key) - 1)
    return np.where((codes >= 0) & (key[rows] == wanted), rows, -1)


def activity_collapse(
    history: pd.DataFrame | _Sorted, digital_activity: pa.Table, settings: Settings
) -> pd.DataFrame:
    """Per history row (same order as ``history`` sorted by customer and month): ``activity`` (logins
    + digital transactions), ``baseline`` (mean of the 3 previous months) and ``collapsed``."""
    h = _sorted(history, [])
    da = digital_activity.select(["customer_id", "month", "logins", "digital_txn_count"])
    rows = _row_of(h, da)
    activity = np.full(len(h.codes), np.nan)
    hit = rows >= 0
    counts = pc.add(pc.cast(da["logins"], pa.float64()), pc.cast(da["digital_txn_count"], pa.float64()))
    activity[rows[hit]] = counts.to_numpy(zero_copy_only=False)[hit]
    reported = np.unique(month_index(da["month"]) + 1) if da.num_rows else np.zeros(0, np.int64)
    known = np.isin(h.month_no, reported)
    activity = np.where(known & np.isnan(activity), 0.0, activity)  # a reported month without a row: none
    runs = _Runs(h.codes)
    baseline = sum(runs.shift(activity, k) for k in range(1, ACTIVITY_BASELINE_MONTHS + 1))
    baseline = np.asarray(baseline) / ACTIVITY_BASELINE_MONTHS
    ratio = settings.alerts.activity_collapse_ratio
    with np.errstate(invalid="ignore"):
        collapsed = ~np.isnan(activity) & (baseline > 0) & (activity < ratio * baseline)
    return h.frame[["customer_id", "month"]].assign(activity=activity, baseline=baseline, collapsed=collapsed)


def product_counts(history: pd.DataFrame | _Sorted, positions: pa.Table) -> pd.Series:
    """Distinct products held at each history row's month end (aligned with the sorted history)."""
    h = _sorted(history, [])
    pos = positions.select(["customer_id", "product_code", "opened_on", "closed_on"]).to_pandas()
    if pos.empty or not len(h.codes):
        return pd.Series(np.zeros(len(h.codes), dtype=np.int64))
    first = int(h.month_no.min())
    n_months = int(h.month_no.max()) - first + 1
    opened = _month_no(pd.to_datetime(pos["opened_on"])) - first
    # held at the end of month k when opened on or before it and not closed on or before it
    closed = _month_no(pd.to_datetime(pos["closed_on"])) - first
    start = opened.clip(lower=0).to_numpy(dtype=np.int64)
    stop = closed.fillna(n_months).clip(upper=n_months).to_numpy(dtype=np.int64)
    live = start < stop
    keys = pd.MultiIndex.from_frame(pos.loc[live, ["customer_id", "product_code"]])
    codes, uniques = keys.factorize(sort=True)  # sorted: a customer's products sit together
    # +1 in the month a holding starts, -1 in the month it stops, per customer × product; int16 and
    # bool keep this customers × products × months matrix small at a million customers
    diff = np.zeros((len(uniques), n_months + 1), dtype=np.int16)
    np.add.at(diff, (codes, start[live]), 1)
    np.add.at(diff, (codes, stop[live]), -1)
    held = np.cumsum(diff, axis=1, dtype=np.int16)[:, :n_months] > 0
    del diff
    cust_codes, cust_ids = pd.factorize(cast(pd.MultiIndex, uniques).get_level_values(0))
    starts = np.flatnonzero(np.r_[True, cust_codes[1:] != cust_codes[:-1]])
    per_cust = np.add.reduceat(held, starts, axis=0, dtype=np.int16)
    row = pd.Index(cust_ids).get_indexer(h.ids)[h.codes]  # each history id's row in per_cust
    col = h.month_no - first
    counts = np.where(row >= 0, per_cust[np.maximum(row, 0), col], 0)
    return pd.Series(counts, dtype=np.int64)


def assign_stages(history: pd.DataFrame, tables: dict[str, pa.Table], settings: Settings) -> pd.DataFrame:
    """Columns: customer_id, month, stage (a :class:`~wealthcrm.vocab.Stage` value); see the module
    docstring for the rules. Rows are sorted by customer and month."""
    sorted_history = _sorted(history, ["aum", "tier", "watch", "tier_event", "customer_loss"])
    h, codes = sorted_history.frame, sorted_history.codes
    by = _Runs(codes)
    look = settings.lifecycle.declining_lookback_months
    onboarding_n = settings.lifecycle.onboarding_months
    month_no = sorted_history.month_no
    floor = settings.churn.customer_loss_min_tier.rank
    rank = h["tier"].map(_RANK).to_numpy(dtype=np.int64)
    aum = h["aum"].to_numpy(dtype="float64")

    customers = tables["customers"].select(["customer_id", "onboarded_on", "closed_on"]).to_pandas()
    at = pd.Index(customers["customer_id"]).get_indexer(sorted_history.ids)[codes]
    known = at >= 0

    def customer_month(column: str) -> np.ndarray:
        values = _month_no(pd.to_datetime(customers[column])).to_numpy(dtype="float64")
        return (
            np.where(known, values[np.maximum(at, 0)], np.nan) if len(values) else np.full(len(codes), np.nan)
        )

    closed_month, onboarded_month = customer_month("closed_on"), customer_month("onboarded_on")

    loss = h["customer_loss"].to_numpy(dtype=bool)
    episode = by.cumsum(loss.astype(np.int64))
    in_episode = _Runs(codes, episode)
    back = in_episode.ever((rank >= floor) & ~loss) & (episode > 0)
    churned = ((episode > 0) & ~back) | (aum <= settings.churn.zero_aum_max) | (closed_month == month_no)

    aum_before = by.shift(aum, look)
    has_before = ~np.isnan(aum_before) & (np.nan_to_num(aum_before) > 0)
    with np.errstate(invalid="ignore"):
        dropped = has_before & (aum <= (1 - settings.lifecycle.declining_drop) * aum_before)
        rose = has_before & (aum >= (1 + settings.lifecycle.growing_rise) * aum_before)
    collapsed = activity_collapse(sorted_history, tables["digital_activity"], settings)[
        "collapsed"
    ].to_numpy()
    declining = h["watch"].to_numpy(dtype=bool) | dropped | collapsed

    # the month back at the floor: the first row of the episode with ``back`` (it stays true after)
    first_back = back & ~(in_episode.shift(back.astype("float64"), 1) == 1.0)
    regain = in_episode.ffill(np.where(first_back, month_no, np.nan))
    won_back = back & ((month_no - regain) < onboarding_n)

    event = h["tier_event"].to_numpy(dtype=object)
    upgrade_at = by.ffill(np.where(event == "upgrade", month_no, np.nan).astype("float64"))
    downgrade_at = by.ffill(np.where(event == "downgrade", month_no, np.nan).astype("float64"))
    entered = np.fmax(upgrade_at, onboarded_month)
    with np.errstate(invalid="ignore"):
        onboarding = ((month_no - entered) < onboarding_n) & ~(downgrade_at >= entered)

    products = product_counts(sorted_history, tables["positions"]).to_numpy(dtype="float64")
    products_before = by.shift(products, look)
    with np.errstate(invalid="ignore"):
        growing = rose | (~np.isnan(products_before) & (products > products_before))

    conditions = [churned, declining, won_back, onboarding, growing]
    choices = [Stage.churned, Stage.declining, Stage.won_back, Stage.onboarding, Stage.growing]
    stage = np.select(
        [np.asarray(c, dtype=bool) for c in conditions],
        [s.value for s in choices],
        default=Stage.mature.value,
    )
    return pd.DataFrame({"customer_id": h["customer_id"], "month": h["month"], "stage": stage})
