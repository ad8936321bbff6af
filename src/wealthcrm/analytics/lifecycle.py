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

from typing import cast

import numpy as np
import pandas as pd
import pyarrow as pa

from wealthcrm.config import Settings
from wealthcrm.vocab import TIER_ORDER, Stage

ACTIVITY_BASELINE_MONTHS = 3
_RANK = {t.value: i for i, t in enumerate(TIER_ORDER)}


def _sorted(history: pd.DataFrame) -> pd.DataFrame:
    out = history.sort_values(["customer_id", "month"], kind="stable").reset_index(drop=True)
    out["month"] = pd.to_datetime(out["month"])
    return out


def _month_no(months: pd.Series) -> pd.Series:
    return cast(pd.Series, months.dt.year * 12 + months.dt.month)


def activity_collapse(history: pd.DataFrame, digital_activity: pa.Table, settings: Settings) -> pd.DataFrame:
    """Per history row (same order as ``history`` sorted by customer and month): ``activity`` (logins
    + digital transactions), ``baseline`` (mean of the 3 previous months) and ``collapsed``."""
    h = _sorted(history)[["customer_id", "month"]]
    da = digital_activity.select(["customer_id", "month", "logins", "digital_txn_count"]).to_pandas()
    da["month"] = pd.to_datetime(da["month"])
    da["activity"] = da["logins"].astype("float64") + da["digital_txn_count"].astype("float64")
    reported = set(da["month"].unique())
    h = h.merge(da[["customer_id", "month", "activity"]], on=["customer_id", "month"], how="left")
    known = h["month"].isin(reported)
    h["activity"] = h["activity"].where(~known | h["activity"].notna(), 0.0)  # no row: no activity
    grouped = h.groupby("customer_id", sort=False)["activity"]
    prev = pd.concat([grouped.shift(k) for k in range(1, ACTIVITY_BASELINE_MONTHS + 1)], axis=1)
    # shift() reads the previous row; the history is contiguous per customer, so that is the month before
    h["baseline"] = prev.mean(axis=1, skipna=False)
    ratio = settings.alerts.activity_collapse_ratio
    h["collapsed"] = (
        h["activity"].notna() & (h["baseline"] > 0) & (h["activity"] < ratio * h["baseline"])
    ).fillna(False)
    return h


def product_counts(history: pd.DataFrame, positions: pa.Table) -> pd.Series:
    """Distinct products held at each history row's month end (aligned with the sorted history)."""
    h = _sorted(history)[["customer_id", "month"]]
    pos = positions.select(["customer_id", "product_code", "opened_on", "closed_on"]).to_pandas()
    if pos.empty or h.empty:
        return pd.Series(np.zeros(len(h), dtype=np.int64))
    first = int(_month_no(h["month"]).min())
    n_months = int(_month_no(h["month"]).max()) - first + 1
    opened = _month_no(pd.to_datetime(pos["opened_on"])) - first
    # held at the end of month k when opened on or before it and not closed on or before it
    closed = _month_no(pd.to_datetime(pos["closed_on"])) - first
    start = opened.clip(lower=0).to_numpy(dtype=np.int64)
    stop = closed.fillna(n_months).clip(upper=n_months).to_numpy(dtype=np.int64)
    live = start < stop
    keys = pd.MultiIndex.from_frame(pos.loc[live, ["customer_id", "product_code"]])
    codes, uniques = keys.factorize()
    diff = np.zeros((len(uniques), n_months + 1), dtype=np.int64)
    np.add.at(diff, (codes, start[live]), 1)
    np.add.at(diff, (codes, stop[live]), -1)
    held = np.cumsum(diff, axis=1)[:, :n_months] > 0
    cust_codes, cust_ids = pd.factorize(cast(pd.MultiIndex, uniques).get_level_values(0))
    per_cust = np.zeros((len(cust_ids), n_months), dtype=np.int64)
    np.add.at(per_cust, cust_codes, held.astype(np.int64))
    row = pd.Index(cust_ids).get_indexer(h["customer_id"])
    col = (_month_no(h["month"]) - first).to_numpy(dtype=np.int64)
    counts = np.where(row >= 0, per_cust[np.maximum(row, 0), col], 0)
    return pd.Series(counts, dtype=np.int64)


def assign_stages(history: pd.DataFrame, tables: dict[str, pa.Table], settings: Settings) -> pd.DataFrame:
    """Columns: customer_id, month, stage (a :class:`~wealthcrm.vocab.Stage` value); see the module
    docstring for the rules. Rows are sorted by customer and month."""
    h = _sorted(history)
    cust = h["customer_id"]
    by = h.groupby(cust, sort=False)
    look = settings.lifecycle.declining_lookback_months
    onboarding_n = settings.lifecycle.onboarding_months
    month_no = _month_no(h["month"])
    floor = settings.churn.customer_loss_min_tier.rank
    rank = h["tier"].map(_RANK).astype("int64")

    customers = tables["customers"].select(["customer_id", "onboarded_on", "closed_on"]).to_pandas()
    customers = customers.set_index("customer_id")
    closed_month = _month_no(pd.to_datetime(cust.map(customers["closed_on"])))
    onboarded_month = _month_no(pd.to_datetime(cust.map(customers["onboarded_on"])))

    # churned: inside a loss episode (from the loss until the tier is back at the floor)
    loss = h["customer_loss"].astype(bool)
    episode = loss.astype("int64").groupby(cust, sort=False).cumsum()
    back_now = (rank >= floor) & ~loss
    back = back_now.groupby([cust, episode], sort=False).cummax() & (episode > 0)
    churned = ((episode > 0) & ~back) | (h["aum"] <= settings.churn.zero_aum_max)
    churned |= closed_month.eq(month_no).fillna(False)

    # declining
    aum_before = by["aum"].shift(look)
    has_before = aum_before.notna() & (aum_before > 0)
    dropped = has_before & (h["aum"] <= (1 - settings.lifecycle.declining_drop) * aum_before)
    collapsed = activity_collapse(h, tables["digital_activity"], settings)["collapsed"]
    declining = h["watch"].astype(bool) | dropped | collapsed.to_numpy()

    # won_back: months since the first month back in the episode
    regain = month_no.where(back).groupby([cust, episode], sort=False).transform("min")
    won_back = back & ((month_no - regain) < onboarding_n)

    # onboarding: since the later of onboarding and the last upgrade, no downgrade since
    upgrade_at = month_no.where(h["tier_event"] == "upgrade").groupby(cust, sort=False).ffill()
    downgrade_at = month_no.where(h["tier_event"] == "downgrade").groupby(cust, sort=False).ffill()
    entered = pd.concat([upgrade_at, onboarded_month], axis=1).max(axis=1)
    onboarding = ((month_no - entered) < onboarding_n) & ~(downgrade_at >= entered).fillna(False)

    # growing
    rose = has_before & (h["aum"] >= (1 + settings.lifecycle.growing_rise) * aum_before)
    products = product_counts(h, tables["positions"])
    products_before = products.groupby(cust, sort=False).shift(look)
    growing = rose | (products_before.notna() & (products > products_before))

    conditions = [churned, declining, won_back, onboarding, growing]
    choices = [Stage.churned, Stage.declining, Stage.won_back, Stage.onboarding, Stage.growing]
    stage = np.select(
        [np.asarray(c, dtype=bool) for c in conditions],
        [s.value for s in choices],
        default=Stage.mature.value,
    )
    return pd.DataFrame({"customer_id": cust, "month": h["month"], "stage": stage})
