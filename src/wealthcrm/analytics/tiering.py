"""Tier history for every customer and month, from the extracted tables (the nightly's first stage).

The result is long format, one row per customer and month from the customer's first month with AUM up
to the last month extracted; months after a customer closed are left out. It carries what later
stages need: AUM, effective and met tier, watch, months below, the tier event, customer loss and asset
loss (SPEC "Tiers" and "Churn", applied by :mod:`wealthcrm.tiers.matrix`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from wealthcrm.config import Settings
from wealthcrm.tiers.matrix import (
    EVENT_DOWNGRADE,
    EVENT_UPGRADE,
    asset_loss_matrix,
    customer_loss_matrix,
    tier_matrix,
)
from wealthcrm.vocab import TIER_ORDER

TIER_NAMES = np.array([t.value for t in TIER_ORDER], dtype=object)
#: event code + 1 → name (codes: downgrade -1, none 0, upgrade 1)
EVENT_NAMES = np.array(["downgrade", None, "upgrade"], dtype=object)
assert (EVENT_DOWNGRADE, EVENT_UPGRADE) == (-1, 1)


def aum_matrix(aum_monthly: pa.Table) -> tuple[np.ndarray, np.ndarray, pd.DatetimeIndex]:
    """(customer ids, customers × months array of total month-average AUM, months)."""
    frame = aum_monthly.select(["customer_id", "month", "avg_daily_balance"]).to_pandas()
    frame["month"] = pd.to_datetime(frame["month"])
    cust_codes, ids = pd.factorize(frame["customer_id"], sort=True)
    first, last = frame["month"].min(), frame["month"].max()
    months = pd.date_range(first, last, freq="MS")
    month_codes = (frame["month"].dt.year - first.year) * 12 + (frame["month"].dt.month - first.month)
    cells = (cust_codes, month_codes.to_numpy())
    matrix = np.zeros((len(ids), len(months)))
    np.add.at(matrix, cells, frame["avg_daily_balance"].to_numpy())  # sum over asset classes
    present = np.zeros(matrix.shape, dtype=bool)
    present[cells] = True
    matrix[~present] = np.nan  # no rows: not yet a customer (before the first month) or AUM 0 (after)
    return np.asarray(ids, dtype=object), matrix, months


def tier_history(tables: dict[str, pa.Table], settings: Settings) -> pd.DataFrame:
    """Columns: customer_id, month (Timestamp, first day), aum, tier, tier_met, watch, months_below,
    tier_event (upgrade/downgrade/None), customer_loss (bool), asset_loss_amount (float or NaN)."""
    ids, aum, months = aum_matrix(tables["aum_monthly"])
    tiers = tier_matrix(aum, settings.tiers)
    customers = tables["customers"].select(["customer_id", "closed_on"]).to_pandas().set_index("customer_id")
    closed_on = pd.to_datetime(customers["closed_on"].reindex(ids))
    closed_idx = np.full(len(ids), -1, dtype=np.int64)
    has_closed = closed_on.notna().to_numpy()
    first = months[0]
    offsets = (closed_on.dt.year - first.year) * 12 + (closed_on.dt.month - first.month)
    in_window = (
        has_closed & (offsets.fillna(-1).to_numpy() >= 0) & (offsets.fillna(-1).to_numpy() < len(months))
    )
    closed_idx[in_window] = offsets.to_numpy()[in_window].astype(np.int64)
    loss = customer_loss_matrix(tiers.tier, closed_idx, settings.churn)
    assets = asset_loss_matrix(aum, settings.churn)

    # Counted from the first month with AUM to the closing month (inclusive) or the end.
    month_no = np.arange(len(months))[None, :]
    closed_after = np.where(has_closed, offsets.fillna(10**6).to_numpy(), 10**6)[:, None]
    keep = tiers.started & (month_no <= closed_after)
    rows, cols = np.nonzero(keep)
    event = tiers.event[rows, cols]
    return pd.DataFrame(
        {
            "customer_id": ids[rows],
            "month": months[cols],
            "aum": np.nan_to_num(aum[rows, cols]),
            "tier": TIER_NAMES[tiers.tier[rows, cols]],
            "tier_met": TIER_NAMES[tiers.met[rows, cols]],
            "watch": tiers.watch[rows, cols],
            "months_below": tiers.months_below[rows, cols],
            "tier_event": EVENT_NAMES[event + 1],
            "customer_loss": loss[rows, cols],
            "asset_loss_amount": np.where(assets.event[rows, cols], assets.amount_lost[rows, cols], np.nan),
        }
    )
