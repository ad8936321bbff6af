"""Manager views: migration matrices, Kaplan–Meier retention, value × potential grid, segments."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sqlalchemy import Engine
from statsmodels.duration.survfunc import SurvfuncRight  # type: ignore[import-untyped]

from wealthcrm.analytics.extract import extract_tables
from wealthcrm.analytics.segments import MEASURES, SEGMENT_INPUTS, behaviour_measures
from wealthcrm.analytics.tiering import tier_history
from wealthcrm.analytics.views import (
    POTENTIAL_LEVELS,
    behaviour_segments,
    km_curve,
    migration_matrices,
    retention_curves,
    retention_spells,
    value_potential_grid,
)
from wealthcrm.config import Settings
from wealthcrm.db import session_scope
from wealthcrm.tiers.service import tier_report

END = date(2026, 10, 1)


@pytest.fixture(scope="module")
def sim_tables(sim_engine: Engine) -> dict[str, pa.Table]:
    return extract_tables(sim_engine, until=END)


@pytest.fixture(scope="module")
def sim_history(sim_tables: dict[str, pa.Table], sim_settings: Settings) -> pd.DataFrame:
    return tier_history(sim_tables, sim_settings)


# --- migration ----------------------------------------------------------------------------------------


def test_migration_equals_tier_report(
    sim_engine: Engine, sim_settings: Settings, sim_history: pd.DataFrame
) -> None:
    months = sorted(pd.to_datetime(sim_history["month"]).unique())
    matrices = migration_matrices(sim_history)
    assert [m.month for m in matrices] == [pd.Timestamp(m).date() for m in months[1:]]
    with session_scope(sim_engine) as session:
        for matrix in matrices:
            report = tier_report(session, month=matrix.month, settings=sim_settings)
            assert matrix.counts == report.migration
            assert matrix.previous_month == report.previous_month
        first = migration_matrices(sim_history, months=[months[0]])[0]
        report = tier_report(session, month=first.month, settings=sim_settings)
        assert first.counts == report.migration and first.previous_month is None
    # Some customers do move between tiers in 17 months of a simulated branch.
    moved = sum(c for m in matrices for r, cols in m.counts.items() for k, c in cols.items() if r != k)
    assert moved > 0
    assert matrices[-1].to_dict()["rows"] == ["mass", "gold", "sunflower", "diamond", "private", "new"]


def test_migration_rejects_unknown_month(sim_history: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="2030-01"):
        migration_matrices(sim_history, months=[date(2030, 1, 1)])


# --- Kaplan–Meier -------------------------------------------------------------------------------------


def test_km_matches_hand_computed_product_limit() -> None:
    # months: 1 loss, 2 censored, 3 loss, 3 loss, 4 censored, 5 loss (6 customers)
    # t=1: 6 at risk, 1 loss → S = 5/6;  t=3: 4 at risk, 2 losses → S = 5/6 · 2/4 = 5/12;
    # t=5: 1 at risk, 1 loss → S = 0.  Greenwood at t=3: S² (1/(6·5) + 2/(4·2)) = (5/12)² · 17/60.
    curve = km_curve([1, 2, 3, 3, 4, 5], [True, False, True, True, False, True])
    assert curve.months == [0, 1, 2, 3, 4, 5]
    assert curve.survival == pytest.approx([1, 5 / 6, 5 / 6, 5 / 12, 5 / 12, 0])
    assert curve.at_risk == [6, 6, 5, 4, 2, 1]
    assert curve.events == [0, 1, 0, 2, 0, 1]
    assert (curve.customers, curve.losses, curve.median_months) == (6, 4, 3)
    s, var = 5 / 12, (5 / 12) ** 2 * 17 / 60
    sigma = np.sqrt(var) / (s * abs(np.log(s)))
    assert curve.ci_lower[3] == pytest.approx(s ** np.exp(1.959964 * sigma), rel=1e-5)
    assert curve.ci_upper[3] == pytest.approx(s ** np.exp(-1.959964 * sigma), rel=1e-5)
    assert curve.ci_lower[0] == curve.ci_upper[0] == 1.0
    assert curve.to_dict()["ci_lower"][5] is None  # undefined at S = 0

    fit = SurvfuncRight(np.array([1, 2, 3, 3, 4, 5.0]), np.array([1, 0, 1, 1, 0, 1.0]))
    assert [curve.survival[int(t)] for t in fit.surv_times] == pytest.approx(list(fit.surv_prob))
    assert [curve.at_risk[int(t)] for t in fit.surv_times] == list(fit.n_risk)


def test_km_median_none_and_convention() -> None:
    assert km_curve([3, 4, 5], [True, False, False]).median_months is None  # S = 2/3 at the lowest
    assert km_curve([2, 4, 5, 6], [False, False, False, False]).survival == [1.0] * 7
    # S reaches exactly 0.5 at month 2: the median is 2 (S ≤ 0.5), statsmodels' quantile says 3.
    curve = km_curve([1, 2, 3, 5], [True, True, True, False])
    assert curve.survival[:4] == pytest.approx([1, 0.75, 0.5, 0.25])
    assert curve.median_months == 2
    assert SurvfuncRight(np.array([1, 2, 3, 5.0]), np.array([1, 1, 1, 0.0])).quantile(0.5) == 3


def _tiny_history() -> pd.DataFrame:
    months = pd.date_range("2026-01-01", periods=6, freq="MS")
    paths = {  # tier per month, and the month index of the loss (None: none)
        "A": (["sunflower"] * 6, None),  # entered in the first data month, censored at 5
        "B": (["gold", "gold", "sunflower", "sunflower", "mass", "mass"], 4),  # 2 months, lost
        "C": (["diamond", "diamond"], 1),  # closed while diamond in month 1 (history stops there)
        "D": (["mass"] * 6, None),  # never sunflower+: not in the curves
        "E": (["sunflower"] * 3 + ["gold", "sunflower", "sunflower"], 3),  # lost at 3, won back later
    }
    rows = [
        {"customer_id": cid, "month": months[i], "tier": tier, "customer_loss": i == loss}
        for cid, (tiers, loss) in paths.items()
        for i, tier in enumerate(tiers)
    ]
    return pd.DataFrame(rows)


def test_retention_spells_and_curves_on_hand_made_history() -> None:
    history = _tiny_history()
    spells = retention_spells(history)
    assert spells[["customer_id", "entry_tier", "months", "lost"]].to_dict("records") == [
        {"customer_id": "A", "entry_tier": "sunflower", "months": 5, "lost": False},
        {"customer_id": "B", "entry_tier": "sunflower", "months": 2, "lost": True},
        {"customer_id": "C", "entry_tier": "diamond", "months": 1, "lost": True},
        {"customer_id": "E", "entry_tier": "sunflower", "months": 3, "lost": True},
    ]
    everyone = retention_curves(history, pd.DataFrame(), by="all")["all"]
    # 4 customers: t=1 4 at risk 1 loss (3/4); t=2 3 at risk 1 loss (1/2); t=3 2 at risk 1 loss (1/4)
    assert everyone.survival == pytest.approx([1, 0.75, 0.5, 0.25, 0.25, 0.25])
    assert everyone.median_months == 2

    customers = pd.DataFrame(
        {
            "customer_id": ["A", "B", "C", "D", "E"],
            "onboarded_on": [date(2019, 5, 1), date(2024, 1, 2), date(2019, 1, 1), None, None],
            "rm_id": ["R1", "R1", None, "R2", "R2"],
        }
    )
    by_tier = retention_curves(history, customers, by="tier")
    assert list(by_tier) == ["sunflower", "diamond"]
    assert by_tier["sunflower"].survival == pytest.approx([1, 1, 2 / 3, 1 / 3, 1 / 3, 1 / 3])
    assert by_tier["diamond"].survival == [1.0, 0.0]
    by_cohort = retention_curves(history, customers, by="cohort")
    assert {k: (c.customers, c.losses) for k, c in by_cohort.items()} == {
        "2019": (2, 1),
        "2024": (1, 1),
        "unknown": (1, 1),
    }
    by_rm = retention_curves(history, customers, by="rm")
    assert {k: (c.customers, c.losses) for k, c in by_rm.items()} == {
        "R1": (2, 1),
        "R2": (1, 1),
        "unassigned": (1, 1),
    }


@pytest.mark.parametrize("by", ["tier", "cohort", "rm"])
def test_retention_curves_on_simulated_branch(
    sim_history: pd.DataFrame, sim_tables: dict[str, pa.Table], by: str
) -> None:
    curves = retention_curves(sim_history, sim_tables["customers"], by=by)  # type: ignore[arg-type]
    spells = retention_spells(sim_history)
    assert sum(c.customers for c in curves.values()) == len(spells) > 100
    assert sum(c.losses for c in curves.values()) == int(spells["lost"].sum()) > 0
    for curve in curves.values():
        s = np.array(curve.survival)
        assert (np.diff(s) <= 1e-12).all() and s[0] <= 1
        ok = ~np.isnan(curve.ci_lower)
        assert (np.array(curve.ci_lower)[ok] <= s[ok] + 1e-12).all()
        assert (s[ok] <= np.array(curve.ci_upper)[ok] + 1e-12).all()
        assert curve.at_risk[0] == curve.customers
    if by == "tier":
        assert set(curves) <= {"sunflower", "diamond", "private"}


# --- value × potential --------------------------------------------------------------------------------


def test_grid_counts_add_up(sim_history: pd.DataFrame, sim_tables: dict[str, pa.Table]) -> None:
    grid = value_potential_grid(sim_history, sim_tables, END)
    now = sim_history[sim_history["month"] == pd.Timestamp(END)]
    assert grid.total.customers == len(now) == len(grid.customers)
    assert sum(b.customers for cols in grid.cells.values() for b in cols.values()) == len(now)
    assert sum(b.aum for cols in grid.cells.values() for b in cols.values()) == pytest.approx(
        now["aum"].sum(), abs=1.0
    )
    per_tier = now["tier"].value_counts()
    for tier, cols in grid.cells.items():
        assert sum(b.customers for b in cols.values()) == per_tier.get(tier, 0)
    per_level = grid.customers["potential"].value_counts()
    assert per_level.max() - per_level.min() <= 1  # tertiles
    assert list(grid.to_dict()["columns"]) == list(POTENTIAL_LEVELS)
    # Higher potential means a higher score.
    means = grid.customers.groupby("potential")["potential_score"].mean()
    assert means["low"] < means["medium"] < means["high"]


def test_grid_from_features_frame_equals_from_tables(
    sim_history: pd.DataFrame, sim_tables: dict[str, pa.Table]
) -> None:
    measures = behaviour_measures(sim_history, sim_tables, END)
    assert list(measures.columns) == ["customer_id", "month", *MEASURES]
    a = value_potential_grid(sim_history, sim_tables, END)
    b = value_potential_grid(sim_history, measures, END)
    assert a.to_dict() == b.to_dict()


# --- segments -----------------------------------------------------------------------------------------


def test_segments_deterministic_and_complete(
    sim_history: pd.DataFrame, sim_tables: dict[str, pa.Table]
) -> None:
    measures = behaviour_measures(sim_history, sim_tables, END)
    first = behaviour_segments(sim_history, measures, END, random_state=7)
    again = behaviour_segments(sim_history, measures, END, random_state=7)
    now = sim_history[sim_history["month"] == pd.Timestamp(END)]
    assert sorted(first.labels["customer_id"]) == sorted(now["customer_id"])
    assert first.labels["segment"].between(0, first.k - 1).all()
    assert first.labels.equals(again.labels) and first.to_dict() == again.to_dict()
    assert set(first.silhouette) == {3, 4, 5, 6} and first.k == max(
        first.silhouette, key=lambda k: first.silhouette[k]
    )
    sizes = [p.customers for p in first.profiles]
    assert sizes == sorted(sizes, reverse=True) and sum(sizes) == len(now)
    assert len({p.name_en for p in first.profiles}) == first.k
    assert all(p.name_zh and set(p.means) == set(SEGMENT_INPUTS) for p in first.profiles)


def test_segments_fixed_k_and_tier_filter(sim_history: pd.DataFrame, sim_tables: dict[str, pa.Table]) -> None:
    seg = behaviour_segments(sim_history, sim_tables, END, k=4, tiers=["sunflower", "diamond", "private"])
    now = sim_history[(sim_history["month"] == pd.Timestamp(END)) & (sim_history["tier"] != "mass")]
    now = now[now["tier"] != "gold"]
    assert seg.k == 4 and seg.silhouette == {}
    assert len(seg.labels) == len(now)
