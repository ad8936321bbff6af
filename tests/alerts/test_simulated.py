"""The rules on the simulated branch: every signal fires, payroll_stopped included."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from sqlalchemy import Engine

from wealthcrm.alerts.rules import CANDIDATE_COLUMNS, evaluate_rules
from wealthcrm.analytics.extract import extract_tables
from wealthcrm.analytics.tiering import tier_history
from wealthcrm.config import Settings
from wealthcrm.vocab import AlertType, Severity

MONTHS = pd.date_range("2025-05-01", "2026-10-01", freq="MS").date


@pytest.fixture(scope="module")
def found(sim_engine: Engine, sim_settings: Settings) -> pd.DataFrame:
    """The candidate alerts of every month from 2025-05 to 2026-10, with the month they were raised."""
    # The rules read only data up to the month they are given, so one extract serves every month.
    tables = extract_tables(sim_engine, until=date(2026, 10, 1))
    history = tier_history(tables, sim_settings)
    return pd.concat(
        [evaluate_rules(tables, history, m, sim_settings).assign(month=m) for m in MONTHS], ignore_index=True
    )


def test_every_signal_fires_over_the_months(found: pd.DataFrame) -> None:
    assert list(found.columns[:-1]) == CANDIDATE_COLUMNS
    assert set(found["alert_type"]) == {t.value for t in AlertType}
    assert set(found["severity"]) == {s.value for s in Severity}
    # each key names one episode: an event key appears in one month only
    events = found[found["alert_type"].isin(["large_outflow", "not_reinvested", "outflow_other_bank"])]
    assert events["dedupe_key"].is_unique
    assert len(found.drop_duplicates("dedupe_key")) < len(found)  # conditions persist across months


def test_payroll_stops_before_defectors_leave_and_for_job_changers(
    found: pd.DataFrame, sim_engine: Engine
) -> None:
    """Defectors redirect their salary months before they close; job changers stop it and stay."""
    pay = found[found["alert_type"] == AlertType.payroll_stopped.value]
    episodes = pay.drop_duplicates("dedupe_key").set_index("customer_id")
    assert len(episodes) >= 30
    assert (episodes["severity"].isin([Severity.medium.value, Severity.low.value])).all()
    assert all(
        e["stopped_from"] == m.strftime("%Y-%m")
        for e, m in zip(episodes["evidence"], episodes["month"], strict=True)
    )

    customers = extract_tables(sim_engine, until=date(2026, 10, 1))["customers"].to_pandas()
    closed_on = pd.to_datetime(customers.set_index("customer_id")["closed_on"])
    closed = closed_on.reindex(episodes.index)
    stopped = pd.to_datetime(episodes["month"])
    later = closed.notna() & (closed >= stopped + pd.DateOffset(months=1))
    assert later.sum() >= 10  # the salary went months before the relationship
    assert closed.isna().sum() >= 0.3 * len(episodes)  # benign stops: the customer stays

    # the condition holds until payroll resumes (a new employer paying here, a won-back customer)
    months_open = pay.groupby("customer_id")["month"].nunique()
    assert months_open.max() >= 3
    ended = pay.groupby("customer_id")["month"].max() < MONTHS[-1]
    assert (ended & closed_on.reindex(ended.index).isna()).any()


def test_one_month_matches_its_own_extract(sim_engine: Engine, sim_settings: Settings) -> None:
    month = date(2026, 3, 1)
    late = extract_tables(sim_engine, until=date(2026, 10, 1))
    own = extract_tables(sim_engine, until=month)
    from_late = evaluate_rules(late, tier_history(late, sim_settings), month, sim_settings)
    from_own = evaluate_rules(own, tier_history(own, sim_settings), month, sim_settings)
    pd.testing.assert_frame_equal(from_late, from_own)
