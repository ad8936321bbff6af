"""Behaviour measures of one month and KMeans behaviour segments with readable profiles.

:func:`behaviour_measures` computes, in one DuckDB statement over the extracted tables, a few measures
per customer counted in a month; the column names are those of
:data:`wealthcrm.analytics.features.FEATURES`, so a frame from ``build_features`` can be used instead.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
from sklearn.cluster import KMeans  # type: ignore[import-untyped]
from sklearn.metrics import silhouette_score  # type: ignore[import-untyped]
from sklearn.preprocessing import StandardScaler  # type: ignore[import-untyped]

#: measure → definition (month t; "3m" = t and the 2 months before).
MEASURES: dict[str, str] = {
    "aum": "Month-average AUM (月日均), CNY.",
    "aum_chg_6m": "Relative change of month-average AUM against 6 months earlier (null: no AUM then).",
    "demand_share": "Share of AUM in demand deposits.",
    "term_share": "Share of AUM in time deposits, WMPs and bonds.",
    "market_share": "Share of AUM in funds, precious metals and custody.",
    "logins_3m": "Mobile and online logins a month, average of 3 months.",
    "txn_count_3m": "Transactions over 3 months.",
    "contacts_3m": "RM (or team lead) contacts over 3 months, any outcome.",
    "open_positions": "Product holdings open at month end.",
    "age_years": "Customer age in years (null: birth date unknown).",
}


def _mno(column: str) -> str:
    """SQL for the month number (year * 12 + month - 1) of a date column."""
    year, month = f"EXTRACT(YEAR FROM {column})", f"EXTRACT(MONTH FROM {column})"
    return f"(CAST({year} AS INTEGER) * 12 + CAST({month} AS INTEGER) - 1)"


def _measures_sql(t: int) -> str:
    share = "CASE WHEN a.total > 0 THEN a.{0} / a.total END AS {0}_share"
    return f"""
WITH aum AS (
  SELECT customer_id, SUM(avg_daily_balance) AS total,
    SUM(CASE WHEN asset_class = 'demand_deposit' THEN avg_daily_balance ELSE 0 END) AS demand,
    SUM(CASE WHEN asset_class IN ('time_deposit', 'wmp', 'bond') THEN avg_daily_balance ELSE 0 END) AS term,
    SUM(CASE WHEN asset_class IN ('fund', 'precious_metal', 'custody') THEN avg_daily_balance ELSE 0 END)
      AS market
  FROM aum_monthly WHERE {_mno("month")} = {t} GROUP BY customer_id
), dig AS (
  SELECT customer_id, SUM(logins) / 3.0 AS logins_3m FROM digital_activity
  WHERE {_mno("month")} BETWEEN {t - 2} AND {t} GROUP BY customer_id
), txn AS (
  SELECT customer_id, COUNT(*) AS txn_count_3m FROM transactions
  WHERE {_mno("txn_date")} BETWEEN {t - 2} AND {t} GROUP BY customer_id
), con AS (
  SELECT i.customer_id, COUNT(*) AS contacts_3m
  FROM interactions i JOIN staff s ON s.staff_id = i.staff_id
  WHERE s.role IN ('rm', 'team_lead') AND {_mno("i.occurred_at")} BETWEEN {t - 2} AND {t}
  GROUP BY i.customer_id
), pos AS (
  SELECT customer_id, COUNT(*) AS open_positions FROM positions
  WHERE {_mno("opened_on")} <= {t} AND (closed_on IS NULL OR {_mno("closed_on")} > {t})
  GROUP BY customer_id
)
SELECT c.customer_id,
  {share.format("demand")}, {share.format("term")}, {share.format("market")},
  COALESCE(d.logins_3m, 0) AS logins_3m, COALESCE(x.txn_count_3m, 0) AS txn_count_3m,
  COALESCE(n.contacts_3m, 0) AS contacts_3m, COALESCE(p.open_positions, 0) AS open_positions,
  ({t} - {_mno("k.birth_date")}) / 12.0 AS age_years
FROM counted c
LEFT JOIN aum a ON a.customer_id = c.customer_id
LEFT JOIN dig d ON d.customer_id = c.customer_id
LEFT JOIN txn x ON x.customer_id = c.customer_id
LEFT JOIN con n ON n.customer_id = c.customer_id
LEFT JOIN pos p ON p.customer_id = c.customer_id
LEFT JOIN customers k ON k.customer_id = c.customer_id
"""


def _month_start(value: date | pd.Timestamp) -> pd.Timestamp:
    return pd.Timestamp(value).normalize().replace(day=1)


def behaviour_measures(
    history: pd.DataFrame, tables: dict[str, pa.Table], month: date | pd.Timestamp
) -> pd.DataFrame:
    """One row per customer counted in ``month`` of ``history``, sorted by customer_id: customer_id,
    month and the columns of :data:`MEASURES` (float)."""
    m = _month_start(month)
    months = pd.to_datetime(history["month"])
    now = history.loc[months == m, ["customer_id", "aum"]].set_index("customer_id")["aum"]
    before = history.loc[months == m - pd.DateOffset(months=6), ["customer_id", "aum"]]
    aum_6 = before.set_index("customer_id")["aum"].reindex(now.index)
    chg = (now - aum_6) / aum_6.where(aum_6 > 0)
    t = m.year * 12 + m.month - 1
    con = duckdb.connect()
    try:
        con.register("counted", pd.DataFrame({"customer_id": now.index.astype("str")}))
        for name in ("aum_monthly", "digital_activity", "transactions", "interactions", "staff"):
            con.register(name, tables[name])
        con.register("positions", tables["positions"])
        con.register("customers", tables["customers"])
        frame = con.execute(_measures_sql(t)).df()
    finally:
        con.close()
    frame = frame.set_index("customer_id").reindex(now.index)
    frame["aum"] = now
    frame["aum_chg_6m"] = chg
    frame = frame[list(MEASURES)].astype("float64").sort_index(kind="stable")
    frame.insert(0, "month", m)
    return frame.rename_axis("customer_id").reset_index()


def measures_for_month(
    history: pd.DataFrame,
    features_or_tables: pd.DataFrame | dict[str, pa.Table],
    month: pd.Timestamp,
    columns: list[str],
) -> pd.DataFrame:
    """customer_id and ``columns`` for ``month``: computed from tables, or taken from a features frame
    (its rows of ``month`` when it has a month column)."""
    if isinstance(features_or_tables, dict):
        frame = behaviour_measures(history, features_or_tables, month)
    else:
        frame = features_or_tables
        if "month" in frame.columns:
            frame = frame[pd.to_datetime(frame["month"]) == month]
        missing = [c for c in ["customer_id", *columns] if c not in frame.columns]
        if missing:
            raise ValueError(f"features lack columns: {', '.join(missing)}")
    return frame[["customer_id", *columns]].reset_index(drop=True)


# --- segments -----------------------------------------------------------------------------------------

#: KMeans inputs; counts enter as log(1 + x) and the 6-month AUM change clipped to [-1, 1] (null → 0),
#: so a few heavy users or doubled balances do not make segments of their own.
SEGMENT_INPUTS: tuple[str, ...] = (
    "logins_3m", "txn_count_3m", "contacts_3m", "demand_share", "term_share", "market_share", "aum_chg_6m",
)  # fmt: skip
_LOG_INPUTS = ("logins_3m", "txn_count_3m", "contacts_3m")

#: input → (name when high en, zh; name when low en, zh)
TRAITS: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "logins_3m": (("Digital-active", "数字活跃"), ("Offline", "线下为主")),
    "txn_count_3m": (("Frequent transactors", "交易频繁"), ("Dormant", "交易沉寂")),
    "contacts_3m": (("RM-engaged", "经理常联系"), ("Rarely contacted", "少有联系")),
    "demand_share": (("Cash holders", "活期沉淀"), ("Fully invested", "资金已配置")),
    "term_share": (("Deposit & WMP savers", "定期理财型"), ("Few term products", "少定期理财")),
    "market_share": (("Market investors", "投资型"), ("No market exposure", "无市场类配置")),
    "aum_chg_6m": (("Growing assets", "资产增长"), ("Shrinking assets", "资产流出")),
}
K_RANGE = range(3, 7)


@dataclass(frozen=True, slots=True)
class SegmentProfile:
    """One segment: its size and AUM, the means of the (untransformed) inputs, the z-scores of its
    centre in the standardised inputs, and a name from the input furthest from the average."""

    segment: int
    customers: int
    aum: float
    means: dict[str, float]
    z: dict[str, float]
    name_en: str
    name_zh: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "segment": self.segment,
            "customers": self.customers,
            "aum": self.aum,
            "means": dict(self.means),
            "z": dict(self.z),
            "name_en": self.name_en,
            "name_zh": self.name_zh,
        }


@dataclass(frozen=True, slots=True, eq=False)
class Segmentation:
    """Segments of one month: ``labels`` (customer_id, segment; segment 0 the largest), the profiles,
    k, and the silhouette of each k tried (empty when k was given)."""

    month: date
    k: int
    silhouette: dict[int, float]
    profiles: list[SegmentProfile]
    labels: pd.DataFrame = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, without the per-customer labels."""
        return {
            "month": self.month.isoformat(),
            "k": self.k,
            "silhouette": {str(k): v for k, v in self.silhouette.items()},
            "inputs": list(SEGMENT_INPUTS),
            "profiles": [p.to_dict() for p in self.profiles],
        }


def _design(measures: pd.DataFrame) -> np.ndarray[Any, np.dtype[np.float64]]:
    x = measures[list(SEGMENT_INPUTS)].astype("float64").copy()
    for name in _LOG_INPUTS:
        x[name] = np.log1p(x[name].clip(lower=0))
    x["aum_chg_6m"] = x["aum_chg_6m"].clip(-1.0, 1.0)
    return np.asarray(x.fillna(0.0).to_numpy(), dtype=np.float64)


def _names(z: np.ndarray[Any, np.dtype[np.float64]]) -> list[tuple[str, str]]:
    """Name each centre by its most extreme input; a repeated name gets the second one added."""
    used: set[str] = set()
    names = []
    for row in z:
        order = np.argsort(-np.abs(row), kind="stable")
        picks = []
        for j in order[:2]:
            high, low = TRAITS[SEGMENT_INPUTS[j]]
            picks.append(high if row[j] >= 0 else low)
        en, zh = picks[0]
        if en in used:
            en, zh = f"{en} · {picks[1][0]}", f"{zh}·{picks[1][1]}"
        used.add(en)
        names.append((en, zh))
    return names


def behaviour_segments(
    history: pd.DataFrame,
    features_or_tables: pd.DataFrame | dict[str, pa.Table],
    month: date | pd.Timestamp,
    *,
    k: int | None = None,
    tiers: Collection[str] | None = None,
    random_state: int = 0,
    sample_size: int = 2000,
) -> Segmentation:
    """KMeans behaviour segments of the customers counted in ``month`` (only ``tiers`` when given).

    Inputs are :data:`SEGMENT_INPUTS` (transformed as documented there), standardised. With ``k`` None,
    k is the one of 3..6 with the best silhouette, each candidate fitted and scored on the same random
    sample of ``sample_size`` customers (so the choice stays cheap for a large branch); the final model
    is fitted on every customer. Everything is seeded with ``random_state``: the same data and seed
    give the same labels. Segments are numbered by size, largest first.
    """
    m = _month_start(month)
    now = history.loc[pd.to_datetime(history["month"]) == m, ["customer_id", "tier", "aum"]]
    if tiers is not None:
        now = now[now["tier"].isin(list(tiers))]
    measures = measures_for_month(history, features_or_tables, m, list(SEGMENT_INPUTS))
    frame = now.merge(measures, on="customer_id", how="left").sort_values("customer_id", kind="stable")
    frame = frame.reset_index(drop=True)
    n = len(frame)
    if n < max(K_RANGE) + 1 and (k is None or n < k + 1):
        raise ValueError(f"too few customers ({n}) to segment")
    x = StandardScaler().fit_transform(_design(frame))

    scores: dict[int, float] = {}
    if k is None:
        rng = np.random.default_rng(random_state)
        sample = x[np.sort(rng.choice(n, size=min(sample_size, n), replace=False))]
        for cand in K_RANGE:
            fitted = KMeans(n_clusters=cand, n_init=10, random_state=random_state).fit(sample)
            scores[cand] = round(float(silhouette_score(sample, fitted.labels_)), 4)
        k = max(scores, key=lambda c: (scores[c], -c))
    model = KMeans(n_clusters=k, n_init=10, random_state=random_state).fit(x)
    raw = np.asarray(model.labels_, dtype=np.int64)
    sizes = np.bincount(raw, minlength=k)
    order = np.lexsort((np.arange(k), -sizes))  # by size descending, then by KMeans label
    relabel = np.empty(k, dtype=np.int64)
    relabel[order] = np.arange(k)
    labels = relabel[raw]

    z = np.vstack([x[labels == s].mean(axis=0) for s in range(k)])
    names = _names(z)
    inputs = frame[list(SEGMENT_INPUTS)].astype("float64")
    profiles = [
        SegmentProfile(
            segment=s,
            customers=int((labels == s).sum()),
            aum=round(float(frame.loc[labels == s, "aum"].sum()), 2),
            means={c: round(float(v), 4) for c, v in inputs[labels == s].mean().items()},
            z={c: round(float(v), 3) for c, v in zip(SEGMENT_INPUTS, z[s], strict=True)},
            name_en=names[s][0],
            name_zh=names[s][1],
        )
        for s in range(k)
    ]
    return Segmentation(
        month=m.date(),
        k=k,
        silhouette=scores,
        profiles=profiles,
        labels=pd.DataFrame({"customer_id": frame["customer_id"], "segment": labels}),
    )
