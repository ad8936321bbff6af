"""The rules on the simulated branch: every signal whose data the simulator produces fires."""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import Engine

from wealthcrm.alerts.rules import CANDIDATE_COLUMNS, evaluate_rules
from wealthcrm.analytics.extract import extract_tables
from wealthcrm.analytics.tiering import tier_history
from wealthcrm.config import Settings
from wealthcrm.vocab import AlertType, Severity

#: The simulator stops payroll only in the month a customer closes, and closed customers get no alerts.
NOT_IN_THE_SIMULATION = {AlertType.payroll_stopped}


def test_every_signal_with_data_fires_over_the_months(sim_engine: Engine, sim_settings: Settings) -> None:
    # The rules read only data up to the month they are given, so one extract serves every month.
    tables = extract_tables(sim_engine, until=date(2026, 10, 1))
    history = tier_history(tables, sim_settings)
    months = pd.date_range("2025-05-01", "2026-10-01", freq="MS").date
    found = pd.concat([evaluate_rules(tables, history, m, sim_settings) for m in months], ignore_index=True)

    assert list(found.columns) == CANDIDATE_COLUMNS
    assert set(found["alert_type"]) == {t.value for t in AlertType} - {t.value for t in NOT_IN_THE_SIMULATION}
    assert set(found["severity"]) == {s.value for s in Severity}
    # each key names one episode: an event key appears in one month only
    events = found[found["alert_type"].isin(["large_outflow", "not_reinvested", "outflow_other_bank"])]
    assert events["dedupe_key"].is_unique
    assert len(found.drop_duplicates("dedupe_key")) < len(found)  # conditions persist across months


def test_one_month_matches_its_own_extract(sim_engine: Engine, sim_settings: Settings) -> None:
    month = date(2026, 3, 1)
    late = extract_tables(sim_engine, until=date(2026, 10, 1))
    own = extract_tables(sim_engine, until=month)
    from_late = evaluate_rules(late, tier_history(late, sim_settings), month, sim_settings)
    from_own = evaluate_rules(own, tier_history(own, sim_settings), month, sim_settings)
    pd.testing.assert_frame_equal(from_late, from_own)
