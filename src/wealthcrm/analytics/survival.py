"""Kaplan–Meier retention of sunflower-or-above customers, by tier at entry, onboarding cohort or RM.

**Spell.** A customer's clock starts in the first month of the history in which the effective tier is
sunflower or above (the customer-loss floor) — for a customer already there in the first month of data,
at that first month: the time spent in the tier before the data began is unknown, so such customers
are treated as entering then (no left-truncation adjustment; their true tenure is longer, which makes
early-month loss look a little higher than for genuinely new entrants). The event is the first
*customer loss* (SPEC "Churn": downgraded below sunflower, or closing while sunflower+) from that month
on; the time is the number of months from the entry month to the loss month (a customer who closes in
the entry month has time 0). Without a loss the spell is censored at the customer's last month in the
history (the end of data). Only the first spell counts: a customer won back after a loss does not
start a second one.

**Estimate.** :class:`statsmodels.duration.survfunc.SurvfuncRight` (product-limit estimate, Greenwood
standard errors); the 95% pointwise interval is the log(−log) ("exponential Greenwood") one, as
lifelines and R's ``survfit(conf.type="log-log")`` give. The median is the first month at which the
survival is at or below 0.5 (lifelines' and R's convention; statsmodels' ``quantile`` uses a strict
inequality), None when the curve never gets there.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
from statsmodels.duration.survfunc import SurvfuncRight  # type: ignore[import-untyped]

from wealthcrm.vocab import TIER_ORDER, Tier

Floats = npt.NDArray[np.float64]
GroupBy = Literal["all", "tier", "cohort", "rm"]
UNKNOWN = "unknown"
UNASSIGNED = "unassigned"


@dataclass(frozen=True, slots=True)
class RetentionCurve:
    """A Kaplan–Meier retention curve on whole months 0..the longest spell.

    ``survival[i]`` is the estimated share still retained after month ``months[i]`` (events at that
    month included); ``ci_lower`` / ``ci_upper`` its 95% interval (NaN where undefined: survival 0);
    ``at_risk[i]`` the customers whose spell lasts at least ``months[i]`` months; ``events[i]`` the
    losses at that month.
    """

    label: str
    customers: int
    losses: int
    months: list[int]
    survival: list[float]
    ci_lower: list[float]
    ci_upper: list[float]
    at_risk: list[int]
    events: list[int]
    median_months: int | None

    def to_dict(self) -> dict[str, Any]:
        def clean(values: list[float]) -> list[float | None]:
            return [None if np.isnan(v) else v for v in values]

        return {
            "label": self.label,
            "customers": self.customers,
            "losses": self.losses,
            "months": list(self.months),
            "survival": clean(self.survival),
            "ci_lower": clean(self.ci_lower),
            "ci_upper": clean(self.ci_upper),
            "at_risk": list(self.at_risk),
            "events": list(self.events),
            "median_months": self.median_months,
        }


def km_curve(durations: npt.ArrayLike, events: npt.ArrayLike, *, label: str = "all") -> RetentionCurve:
    """The product-limit estimate of integer ``durations`` (months) with ``events`` (True: loss)."""
    t = np.asarray(durations, dtype=np.int64)
    e = np.asarray(events, dtype=np.bool_)
    if t.ndim != 1 or t.shape != e.shape or len(t) == 0 or t.min() < 0:
        raise ValueError("durations and events must be equal-length, non-empty, with durations ≥ 0")
    grid = np.arange(int(t.max()) + 1)
    survival = np.ones(len(grid))
    se = np.zeros(len(grid))
    if e.any():
        fit = SurvfuncRight(t.astype(np.float64), e.astype(np.float64))
        # Step function: the estimate at the last event time at or before each month.
        idx = np.searchsorted(np.asarray(fit.surv_times), grid, side="right") - 1
        known = idx >= 0
        survival[known] = np.asarray(fit.surv_prob)[idx[known]]
        se[known] = np.asarray(fit.surv_prob_se)[idx[known]]
    lower, upper = _loglog_ci(survival, se)
    below = np.flatnonzero(survival <= 0.5 + 1e-12)
    return RetentionCurve(
        label=label,
        customers=len(t),
        losses=int(e.sum()),
        months=[int(m) for m in grid],
        survival=[float(s) for s in survival],
        ci_lower=[float(v) for v in lower],
        ci_upper=[float(v) for v in upper],
        at_risk=[int(n) for n in (t[None, :] >= grid[:, None]).sum(axis=1)],
        events=[int(d) for d in np.bincount(t[e], minlength=len(grid))],
        median_months=int(grid[below[0]]) if len(below) else None,
    )


def _loglog_ci(survival: Floats, se: Floats, level: float = 0.95) -> tuple[Floats, Floats]:
    """Pointwise log(−log) interval: S^exp(±z·σ), σ = se / (S·|log S|); (1, 1) while S = 1."""
    z = NormalDist().inv_cdf(0.5 + level / 2)
    lower, upper = np.ones_like(survival), np.ones_like(survival)
    inner = (survival > 0) & (survival < 1)
    s = survival[inner]
    sigma = se[inner] / (s * np.abs(np.log(s)))
    lower[inner] = s ** np.exp(z * sigma)
    upper[inner] = s ** np.exp(-z * sigma)
    lower[survival <= 0] = np.nan
    upper[survival <= 0] = np.nan
    return lower, upper


def retention_spells(history: pd.DataFrame, *, min_tier: Tier = Tier.sunflower) -> pd.DataFrame:
    """One row per customer who reached ``min_tier`` (the settings' ``churn.customer_loss_min_tier``):
    customer_id, entry_month, entry_tier, months (duration), lost (event), as the module describes."""
    rank = {t.value: i for i, t in enumerate(TIER_ORDER)}
    h = history[["customer_id", "month", "tier", "customer_loss"]].copy()
    h["month"] = pd.to_datetime(h["month"])
    h["mno"] = h["month"].dt.year * 12 + h["month"].dt.month - 1
    h = h.sort_values(["customer_id", "mno"], kind="stable")
    last = h.groupby("customer_id", sort=True)["mno"].max()
    up = h[h["tier"].map(rank) >= min_tier.rank]
    entry = up.groupby("customer_id", sort=True).first()[["month", "tier", "mno"]]
    h = h[h["customer_id"].isin(entry.index)]
    h = h[h["mno"] >= h["customer_id"].map(entry["mno"])]
    loss = h[h["customer_loss"].astype(bool)].groupby("customer_id")["mno"].min()
    lost = loss.reindex(entry.index)
    end = lost.fillna(last.reindex(entry.index)).astype("int64")
    return pd.DataFrame(
        {
            "customer_id": entry.index.to_numpy(),
            "entry_month": entry["month"].to_numpy(),
            "entry_tier": entry["tier"].to_numpy(),
            "months": (end - entry["mno"]).to_numpy(dtype=np.int64),
            "lost": lost.notna().to_numpy(),
        }
    )


def retention_curves(
    history: pd.DataFrame,
    customers: pd.DataFrame | pa.Table,
    *,
    by: GroupBy,
    min_tier: Tier = Tier.sunflower,
) -> dict[str, RetentionCurve]:
    """Kaplan–Meier retention curves of sunflower+ customers, one per group (sorted by label).

    ``by``: ``"tier"`` — effective tier in the entry month (sunflower, diamond, private, in that order);
    ``"cohort"`` — year of ``onboarded_on`` in ``customers`` (``"unknown"`` when missing);
    ``"rm"`` — the customer's current ``rm_id`` (``"unassigned"`` when none); ``"all"`` — one curve.
    ``customers`` is the extracted customers table (or a frame with those columns).
    """
    spells = retention_spells(history, min_tier=min_tier)
    if spells.empty:
        return {}
    keys: pd.Series[str]
    if by == "all":
        keys = pd.Series("all", index=spells.index, dtype="object")
    elif by == "tier":
        keys = spells["entry_tier"].astype("str")
    else:
        frame = customers.to_pandas() if isinstance(customers, pa.Table) else customers
        info = frame.set_index("customer_id")
        if by == "cohort":
            onboarded = pd.to_datetime(info["onboarded_on"]).reindex(spells["customer_id"])
            year = onboarded.dt.year.astype("Int64").astype("str")
            keys = pd.Series(np.where(onboarded.notna(), year, UNKNOWN), index=spells.index).astype("str")
        elif by == "rm":
            rm = info["rm_id"].reindex(spells["customer_id"])
            keys = pd.Series(np.where(rm.notna(), rm.astype("str"), UNASSIGNED), index=spells.index).astype(
                "str"
            )
        else:
            raise ValueError(f"unknown grouping {by!r}")
    order = {t.value: i for i, t in enumerate(TIER_ORDER)}
    labels = sorted(keys.unique(), key=lambda k: (order.get(k, len(order)), k))
    return {
        label: km_curve(
            spells.loc[keys == label, "months"], spells.loc[keys == label, "lost"], label=str(label)
        )
        for label in labels
    }
