"""The nightly's tier history agrees with the tier report, month by month, on a simulated branch."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from sqlalchemy import Engine

from wealthcrm.analytics.extract import extract_tables
from wealthcrm.analytics.tiering import tier_history
from wealthcrm.config import Settings
from wealthcrm.db import session_scope
from wealthcrm.tiers.service import tier_report


@pytest.mark.parametrize("month", [date(2026, 3, 1), date(2026, 10, 1)])
def test_tier_history_matches_tier_report(sim_engine: Engine, sim_settings: Settings, month: date) -> None:
    history = tier_history(extract_tables(sim_engine, until=month), sim_settings)
    now = history[history["month"] == pd.Timestamp(month)]
    with session_scope(sim_engine) as session:
        report = tier_report(session, month=month, settings=sim_settings)

    by_tier = now.groupby("tier")["aum"].agg(["size", "sum"])
    for name, bucket in report.tiers.items():
        got = (int(by_tier["size"].get(name, 0)), round(float(by_tier["sum"].get(name, 0.0)), 2))
        assert got == (bucket.customers, pytest.approx(bucket.aum, abs=0.05))
    assert int(now["watch"].sum()) == report.watch.customers
    assert int(now["customer_loss"].sum()) == report.customer_loss.customers
    assert int(now["asset_loss_amount"].notna().sum()) == report.asset_loss.events
    assert history["month"].max() == pd.Timestamp(month)


def test_extract_hides_what_happened_later(sim_engine: Engine) -> None:
    early = extract_tables(sim_engine, until=date(2025, 12, 1))
    assert early["aum_monthly"].column("month").to_pandas().max() == date(2025, 12, 1)
    assert early["transactions"].column("txn_date").to_pandas().max() <= date(2025, 12, 31)
    customers = early["customers"].to_pandas()
    assert customers["onboarded_on"].max() <= date(2025, 12, 31)
    assert (customers["closed_on"].dropna() <= date(2025, 12, 31)).all()
    assert (customers["risk_assessed_on"].dropna() <= date(2025, 12, 31)).all()
    positions = early["positions"].to_pandas()
    assert (positions["closed_on"].dropna() <= date(2025, 12, 31)).all()
