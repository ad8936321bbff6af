"""Service requests and survey answers of the synthetic branch: plausible, consistent with the hidden
state, and enough for the complaint, SLA-breach and detractor rules to fire."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine

from wealthcrm.config import Settings
from wealthcrm.simulate import SimulationSummary
from wealthcrm.simulate.sla import REQUEST_TYPES, SLA_DAYS
from wealthcrm.simulate.survey import DIMENSIONS, ITEM_IDS, QUESTIONNAIRE_ID, SERVQUAL

from .conftest import END

Runs = dict[int, tuple[Path, SimulationSummary]]
WINDOW_END = pd.Timestamp(END) + pd.offsets.MonthBegin(1)  # first instant after the written months
TIMES = ["opened_at", "acknowledged_at", "due_at", "resolved_at"]


def requests(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "service_requests.csv", parse_dates=TIMES)


def answers(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "survey_answers.csv", keep_default_na=False, na_values=[""])


def breached(r: pd.DataFrame) -> pd.Series:
    """Resolved after the due time, or still open when the due time has passed."""
    late = r["resolved_at"] > r["due_at"]
    return late | (r["resolved_at"].isna() & (r["due_at"] < WINDOW_END))


def test_requests_are_consistent_and_nothing_is_after_the_window(runs: Runs) -> None:
    r = requests(runs[1][0])
    assert set(r["request_type"]) == set(REQUEST_TYPES)
    assert r["request_id"].is_unique
    assert r["request_id"].str.fullmatch(r"R\d{8}-\d{6}-\d{2}").all()
    for col in ("opened_at", "acknowledged_at", "resolved_at"):
        assert (r[col].dropna() < WINDOW_END).all(), col
    assert (r["acknowledged_at"].dropna() >= r.loc[r["acknowledged_at"].notna(), "opened_at"]).all()
    done = r["resolved_at"].notna()
    assert (r.loc[done, "resolved_at"] >= r.loc[done, "opened_at"]).all()
    assert set(r.loc[done, "status"]) <= {"resolved", "closed"}
    assert not set(r.loc[~done, "status"]) & {"resolved", "closed"}
    assert r.loc[~done, "rating"].isna().all()
    assert r["rating"].dropna().between(1, 5).all()
    staff = pd.read_csv(runs[1][0] / "staff.csv").set_index("staff_id")["role"]
    assert set(staff.reindex(r["staff_id"])) == {"rm", "service"}


def test_due_times_follow_the_sla_in_working_days(runs: Runs) -> None:
    r = requests(runs[1][0])
    opened = r["opened_at"].to_numpy().astype("datetime64[D]")
    due = r["due_at"].to_numpy().astype("datetime64[D]")
    days = np.busday_count(opened, due)
    for kind, allowed in SLA_DAYS.items():
        assert set(days[(r["request_type"] == kind).to_numpy()]) <= set(allowed), kind
    assert (r["due_at"].dt.time == r["opened_at"].dt.time).all()
    assert (r["due_at"].dt.day_of_week < 5).all()


def test_some_complaints_breach_their_sla_and_are_rated_lower(runs: Runs) -> None:
    for folder, _ in runs.values():
        r = requests(folder)
        c = r[r["request_type"] == "complaint"]
        late = breached(c)
        assert 0.03 <= late.mean() <= 0.4
        assert c.loc[late, "rating"].mean() < c.loc[~late, "rating"].mean() - 0.5
        assert c["rating"].mean() < r.loc[r["request_type"] != "complaint", "rating"].mean()


def _complaints_before(folder: Path) -> pd.DataFrame:
    """Ground-truth rows with the customer's complaints in that month and the two before."""
    truth = pd.read_csv(folder / "ground_truth.csv")
    r = requests(folder)
    c = r[r["request_type"] == "complaint"]
    months = {m: i for i, m in enumerate(sorted(pd.read_csv(folder / "aum_monthly.csv")["month"].unique()))}
    per = c.groupby([c["customer_id"], c["opened_at"].dt.strftime("%Y-%m").map(months)]).size()
    no = truth["month"].map(months)
    truth["complaints_3m"] = sum(
        per.reindex(pd.MultiIndex.from_arrays([truth["customer_id"], no - lag])).fillna(0).to_numpy()
        for lag in range(3)
    )
    return truth


def test_customers_about_to_be_lost_complained_more(runs: Runs) -> None:
    for folder, _ in runs.values():
        t = _complaints_before(folder)
        lost = t["lost_within_3m"] == 1
        rate_lost = t.loc[lost, "complaints_3m"].mean()
        rate_kept = t.loc[~lost, "complaints_3m"].mean()
        assert rate_lost >= 2 * rate_kept


def test_the_questionnaire_and_its_scales(runs: Runs) -> None:
    a = answers(runs[1][0])
    assert set(a["item_id"]) == set(ITEM_IDS)
    assert (a["questionnaire_id"] == QUESTIONNAIRE_ID).all()
    assert (a.groupby("response_id")["item_id"].size() == len(ITEM_IDS)).all()
    assert a.groupby("response_id")["customer_id"].nunique().max() == 1
    likert = a.loc[a["item_id"] != "NPS", "score"].dropna()
    assert set(likert) <= set(range(1, 8))
    assert set(a.loc[a["item_id"] == "NPS", "score"].dropna()) <= set(range(11))
    assert 0.01 <= a["score"].isna().mean() <= 0.03
    months = set(a["answered_on"].str[5:7])
    assert months == {"04", "10"}
    assert (pd.to_datetime(a["answered_on"]) < WINDOW_END).all()


def cronbach_alpha(items: pd.DataFrame) -> float:
    """k/(k−1)·(1 − Σ var_i / var_total), on complete responses."""
    x = items.dropna()
    k = x.shape[1]
    return float(k / (k - 1) * (1 - x.var(ddof=1).sum() / x.sum(axis=1).var(ddof=1)))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_servqual_dimensions_are_reliable(runs: Runs, seed: int) -> None:
    wide = answers(runs[seed][0]).pivot(index="response_id", columns="item_id", values="score")
    assert len(wide) > 300
    for dim in SERVQUAL:
        assert 0.7 <= cronbach_alpha(wide[list(DIMENSIONS[dim])]) <= 0.95, dim


def _nps_and_later_loss(folder: Path) -> pd.DataFrame:
    """One row per response: its NPS and whether the customer was lost after answering (closed
    later, or a customer loss in the ground truth from the month answered on)."""
    a = answers(folder)
    nps = a[a["item_id"] == "NPS"].dropna(subset=["score"]).copy()
    nps["month"] = nps["answered_on"].str[:7]
    closed = pd.read_csv(folder / "customers.csv").set_index("customer_id")["closed_on"]
    closed_on = closed.reindex(nps["customer_id"]).fillna("").to_numpy()
    truth = pd.read_csv(folder / "ground_truth.csv")
    last_lost = truth[truth["lost_within_3m"] == 1].groupby("customer_id")["month"].max()
    lost_from = last_lost.reindex(nps["customer_id"]).fillna("").to_numpy()
    nps["later_lost"] = (closed_on > nps["answered_on"].to_numpy()) | (lost_from >= nps["month"].to_numpy())
    return nps


def test_detractors_are_more_common_among_customers_later_lost(runs: Runs) -> None:
    nps = pd.concat([_nps_and_later_loss(folder) for folder, _ in runs.values()], ignore_index=True)
    detractor = nps["score"] <= 6
    lost = nps["later_lost"]
    assert lost.sum() >= 50
    assert detractor[lost].mean() >= 1.5 * detractor[~lost].mean()
    assert nps.loc[lost, "score"].mean() < nps.loc[~lost, "score"].mean() - 0.75
    promoters, detractors = (nps["score"] >= 9).mean(), detractor.mean()
    assert 0.1 <= detractors <= 0.4
    assert 0.3 <= promoters <= 0.65


def test_complaint_sla_breach_and_detractor_rules_fire(sim_engine: Engine, sim_settings: Settings) -> None:
    from wealthcrm.alerts.rules import evaluate_rules
    from wealthcrm.analytics.extract import extract_tables
    from wealthcrm.analytics.tiering import tier_history

    tables = extract_tables(sim_engine, until=date(2026, 10, 1))
    history = tier_history(tables, sim_settings)
    months = pd.date_range("2025-05-01", "2026-10-01", freq="MS").date
    found = pd.concat([evaluate_rules(tables, history, m, sim_settings) for m in months], ignore_index=True)
    fired = found["alert_type"].value_counts()
    for kind in ("complaint", "sla_breach", "detractor"):
        assert fired.get(kind, 0) >= 1, kind
