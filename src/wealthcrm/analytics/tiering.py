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
import pyarrow.compute as pc

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


def month_index(months: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Months since year 0 (``year * 12 + month - 1``) of a date column, as int64, in Arrow."""
    year = pc.year(months).to_numpy(zero_copy_only=False)
    return np.asarray(year * 12 + pc.month(months).to_numpy(zero_copy_only=False) - 1, dtype=np.int64)


def customer_codes(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct ids as an object array, the code of each row into them), computed in Arrow:
    no Python string per row, which at a million customers × 24 months × asset classes is most of the
    memory this stage would need."""
    ids = pc.unique(column)
    ids = ids.take(pc.sort_indices(ids))
    codes = pc.index_in(column, value_set=ids).to_numpy(zero_copy_only=False)
    return np.asarray(ids.to_pylist(), dtype=object), np.asarray(codes, dtype=np.int64)


def aum_matrix(aum_monthly: pa.Table) -> tuple[np.ndarray, np.ndarray, pd.DatetimeIndex]:
    """(customer ids, customers × months array of total month-average AUM, months)."""
    ids, cust_codes = customer_codes(aum_monthly["customer_id"])
    month_codes = month_index(aum_monthly["month"])
    if len(month_codes) == 0:
        return ids, np.zeros((0, 0)), pd.DatetimeIndex([])
    first_no = int(month_codes.min())
    n_months = int(month_codes.max()) - first_no + 1
    months = pd.date_range(pd.Timestamp(first_no // 12, first_no % 12 + 1, 1), periods=n_months, freq="MS")
    # One flat cell number per row; bincount sums the asset classes of a cell (np.add.at is far slower).
    cells = cust_codes * n_months + (month_codes - first_no)
    del cust_codes, month_codes
    size = len(ids) * n_months
    balance = aum_monthly["avg_daily_balance"].to_numpy()
    matrix = np.bincount(cells, weights=balance, minlength=size).reshape(len(ids), n_months)
    present = (np.bincount(cells, minlength=size) > 0).reshape(matrix.shape)
    matrix[~present] = np.nan  # no rows: not yet a customer (before the first month) or AUM 0 (after)
    return ids, matrix, months


def tier_history(tables: dict[str, pa.Table], settings: Settings) -> pd.DataFrame:
    """Columns: customer_id, month (Timestamp, first day), aum, tier, tier_met, watch, months_below,
    tier_event (upgrade/downgrade/None), customer_loss (bool), asset_loss_amount (float or NaN)."""
    # the nightly's extract sums AUM per customer and month in the database (``aum_totals``)
    ids, aum, months = aum_matrix(tables.get("aum_totals", tables["aum_monthly"]))
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
