"""Training labels from the tier history: who is at risk in month *t*, and what happened in *t+1..t+h*.

- **Population** (who is scored): customers whose effective tier in month *t* is at least
  ``churn.customer_loss_min_tier`` (sunflower) and whose relationship is open at the end of *t* (the
  closing month itself is not scored) — the same rows the simulator's ground truth has.
- **Label** ``lost``: a customer loss (``customer_loss`` in the tier history: downgrade below sunflower
  or closing) in any of the months *t+1..t+h*; unknown (NaN) when month *t+h* is after the last month
  in the data and no loss has been seen yet.
- **Outflow** ``outflow_share``: the share of month *t*'s AUM gone by month *t+h*,
  ``max(0, aum_t − aum_{t+h}) / aum_t``, with AUM 0 after closing; unknown when *t+h* is not in the data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from wealthcrm.analytics.tiering import TIER_NAMES
from wealthcrm.config import Settings

LABEL = "lost"
OUTFLOW = "outflow_share"


def in_population(history: pd.DataFrame, customers: pa.Table, settings: Settings) -> pd.Series:
    """Boolean mask of the history rows that are scored (sunflower-or-above, relationship open)."""
    ranks = {str(name): i for i, name in enumerate(TIER_NAMES)}
    min_rank = ranks[settings.churn.customer_loss_min_tier.value]
    closed = customers.select(["customer_id", "closed_on"]).to_pandas().set_index("customer_id")["closed_on"]
    closed_month = pd.to_datetime(closed).dt.to_period("M").dt.to_timestamp()
    closing = history["customer_id"].map(closed_month) == history["month"]
    return (history["tier"].map(ranks) >= min_rank) & ~closing


def label_frame(
    history: pd.DataFrame, customers: pa.Table, settings: Settings, *, horizon: int = 3
) -> pd.DataFrame:
    """customer_id, month, aum, lost (1.0 / 0.0 / NaN), outflow_share for the population rows."""
    frame = history[["customer_id", "month", "aum", "tier", "customer_loss"]].sort_values(
        ["customer_id", "month"], kind="stable"
    )
    last_month = frame["month"].max()
    by_customer = frame.groupby("customer_id", sort=False)
    seen = pd.Series(0.0, index=frame.index)
    for k in range(1, horizon + 1):
        seen = seen.add(by_customer["customer_loss"].shift(-k).astype("float64").fillna(0.0))
    horizon_end = frame["month"] + pd.DateOffset(months=horizon)
    known = horizon_end <= last_month
    lost = pd.Series(np.where(seen > 0, 1.0, np.where(known, 0.0, np.nan)), index=frame.index)
    # AUM h months later: 0 once the customer has closed (no rows after the closing month).
    later = by_customer["aum"].shift(-horizon)
    later = later.where(later.notna() | ~known, 0.0)
    aum = frame["aum"].astype("float64")
    share = ((aum - later).clip(lower=0.0) / aum.where(aum > 0)).clip(upper=1.0)
    out = pd.DataFrame(
        {
            "customer_id": frame["customer_id"],
            "month": frame["month"],
            "aum": aum,
            LABEL: lost,
            OUTFLOW: share.where(known),
        }
    )
    mask = in_population(frame, customers, settings).to_numpy()
    return out[mask].sort_values(["month", "customer_id"], kind="stable").reset_index(drop=True)


def training_frame(
    features: pd.DataFrame,
    history: pd.DataFrame,
    customers: pa.Table,
    settings: Settings,
    *,
    horizon: int = 3,
) -> pd.DataFrame:
    """The population rows of ``features`` with ``lost`` and ``outflow_share`` (NaN where unknown)."""
    labels = label_frame(history, customers, settings, horizon=horizon).drop(columns="aum")
    return features.merge(labels, on=["customer_id", "month"], how="inner", validate="one_to_one")
