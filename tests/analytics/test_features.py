"""Churn features: documented columns, agreement with the pandas reference, and no look-ahead."""

from __future__ import annotations

import importlib.util
import sys
from datetime import date
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from sqlalchemy import Engine

from tests.conftest import SIM_END
from wealthcrm.analytics.extract import extract_tables
from wealthcrm.analytics.features import FEATURES, build_features, feature_sql
from wealthcrm.analytics.tiering import tier_history
from wealthcrm.config import Settings

CUT = date(2026, 5, 1)
BENCH = Path(__file__).resolve().parents[2] / "bench"


def _bench_module() -> ModuleType:
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location("nightly_features", BENCH / "nightly_features.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCH))


@pytest.fixture(scope="module")
def tables(sim_engine: Engine) -> dict[str, pa.Table]:
    return extract_tables(sim_engine, until=SIM_END)


@pytest.fixture(scope="module")
def features(tables: dict[str, pa.Table], sim_settings: Settings) -> pd.DataFrame:
    return build_features(tables, settings=sim_settings)


def test_columns_are_the_documented_features(features: pd.DataFrame) -> None:
    assert list(features.columns) == ["customer_id", "month", *FEATURES]
    assert all(features[name].dtype == np.float64 for name in FEATURES)
    assert not features.duplicated(["customer_id", "month"]).any()
    assert features["month"].min() == pd.Timestamp("2025-05-01")
    assert features["month"].max() == pd.Timestamp("2026-10-01")
    assert all(description.strip() for description in FEATURES.values())


def test_one_row_per_tier_history_row(
    tables: dict[str, pa.Table], sim_settings: Settings, features: pd.DataFrame
) -> None:
    history = tier_history(tables, sim_settings)
    assert len(features) == len(history)


def test_agrees_with_the_pandas_reference(
    tables: dict[str, pa.Table], sim_settings: Settings, features: pd.DataFrame
) -> None:
    bench = _bench_module()
    reference = bench.pandas_features(tables, tier_history(tables, sim_settings), sim_settings)
    assert reference[["customer_id", "month"]].equals(features[["customer_id", "month"]])
    differences = bench.compare(features, reference)
    assert differences == dict.fromkeys(FEATURES, 0.0) or max(differences.values()) < 1e-9


def test_hand_checked_values(tables: dict[str, pa.Table], features: pd.DataFrame) -> None:
    aum = tables["aum_monthly"].to_pandas()
    aum["month"] = pd.to_datetime(aum["month"])
    totals = aum.groupby(["customer_id", "month"])["avg_daily_balance"].sum()
    row = features[features["aum_chg_3m"].notna()].iloc[100]
    before = totals[(row["customer_id"], row["month"] - pd.DateOffset(months=3))]
    assert row["aum_chg_3m"] == pytest.approx(totals[(row["customer_id"], row["month"])] / before - 1)
    assert (features["matured_not_reinvested_3m"] <= features["matured_3m"]).all()
    assert set(features["watch"].unique()) <= {0.0, 1.0}
    assert features["other_bank_out_count_3m"].sum() > 0


def test_months_selects_rows(tables: dict[str, pa.Table], sim_settings: Settings) -> None:
    some = build_features(
        tables, settings=sim_settings, months=[date(2026, 9, 1), pd.Timestamp("2026-10-01")]
    )
    assert sorted(some["month"].unique()) == [pd.Timestamp("2026-09-01"), pd.Timestamp("2026-10-01")]


@pytest.mark.parametrize(
    "months",
    [[date(2026, 10, 1)], [date(2026, 9, 1), date(2026, 10, 1)], [date(2025, 5, 1), date(2025, 9, 1)]],
)
def test_some_months_equal_those_of_every_month(
    tables: dict[str, pa.Table], sim_settings: Settings, features: pd.DataFrame, months: list[date]
) -> None:
    """Computing some months only (the windows read 6 months back; recency comes from the contacts)
    gives exactly the rows of the full computation, also for the first months of the data."""
    some = build_features(tables, settings=sim_settings, months=months)
    expected = features[features["month"].isin(pd.DatetimeIndex(months))].reset_index(drop=True)
    assert len(some) > 1000
    pd.testing.assert_frame_equal(some, expected)


def test_a_history_with_gaps_computes_every_month(
    tables: dict[str, pa.Table], sim_settings: Settings
) -> None:
    """Months missing from a customer's history: the windows count rows, so the restricted
    computation would differ; build_features notices and computes every month instead."""
    history = tier_history(tables, sim_settings)
    ids = history["customer_id"].drop_duplicates().iloc[:300]
    gap = history["customer_id"].isin(ids) & (history["month"] == pd.Timestamp("2026-07-01"))
    history = history[~gap].reset_index(drop=True)
    full = build_features(tables, settings=sim_settings, history=history)
    some = build_features(tables, settings=sim_settings, history=history, months=[date(2026, 10, 1)])
    pd.testing.assert_frame_equal(
        some, full[full["month"] == pd.Timestamp("2026-10-01")].reset_index(drop=True)
    )
    assert not some[some["customer_id"].isin(ids)].empty


def test_sql_avoids_duckdb_only_syntax() -> None:
    sql = feature_sql(reinvest_days=7).upper() + feature_sql(reinvest_days=7, months=[24321]).upper()
    for token in ("::", "QUALIFY", "GROUP BY ALL", "ARG_MAX", "DATE_DIFF", "EXCLUDE", "STRFTIME"):
        assert token not in sql


def test_no_look_ahead_extracting_until_the_month(
    sim_engine: Engine, sim_settings: Settings, features: pd.DataFrame
) -> None:
    """Features of month t from a DB extracted up to t equal those from the full extract."""
    early = build_features(extract_tables(sim_engine, until=CUT), settings=sim_settings, months=[CUT])
    full = features[features["month"] == pd.Timestamp(CUT)].reset_index(drop=True)
    assert len(early) > 1000
    pd.testing.assert_frame_equal(early, full)


def test_no_look_ahead_altering_later_rows(
    tables: dict[str, pa.Table], sim_settings: Settings, features: pd.DataFrame
) -> None:
    """Changing every AUM row, transaction and interaction after month t leaves month t's features."""
    cut = pa.scalar(CUT, pa.date32())
    altered = dict(tables)
    aum = tables["aum_monthly"]
    later = pc.greater(aum["month"], cut)
    halved = pc.if_else(later, pc.multiply(aum["avg_daily_balance"], 0.5), aum["avg_daily_balance"])
    altered["aum_monthly"] = aum.set_column(
        aum.schema.get_field_index("avg_daily_balance"), "avg_daily_balance", halved
    )
    txn = tables["transactions"]
    altered["transactions"] = txn.filter(
        pc.less_equal(txn["txn_date"], pa.scalar(date(2026, 5, 31), pa.date32()))
    )
    inter = tables["interactions"]
    first_after = pa.scalar(
        pd.Timestamp("2026-06-01").to_pydatetime(), inter.schema.field("occurred_at").type
    )
    altered["interactions"] = inter.filter(pc.less(inter["occurred_at"], first_after))
    assert (
        altered["transactions"].num_rows < txn.num_rows and altered["interactions"].num_rows < inter.num_rows
    )
    before = features[features["month"] <= pd.Timestamp(CUT)].reset_index(drop=True)
    after = build_features(altered, settings=sim_settings)
    after = after[after["month"] <= pd.Timestamp(CUT)].reset_index(drop=True)
    pd.testing.assert_frame_equal(after, before)


def test_service_and_survey_features_on_hand_made_files(tmp_path: Path, settings: Settings) -> None:
    from wealthcrm import schema
    from wealthcrm.db import make_engine
    from wealthcrm.ingest.importer import import_path

    from ..ingest.factories import VALID, write_folder

    files = {k: [dict(r) for r in rows] for k, rows in VALID.items()}
    files["aum_monthly"] += [dict(r, month="2026-10") for r in VALID["aum_monthly"]]
    files["service_requests"].append(
        dict(
            VALID["service_requests"][0],
            request_id="R3",
            opened_at="2026-10-20 09:00",
            acknowledged_at="",
            due_at="2026-10-22 18:00",
            resolved_at="",
            status="in_progress",
            rating="",
        )
    )
    engine = make_engine(f"sqlite:///{tmp_path / 'f.db'}")
    schema.upgrade(engine)
    import_path(engine, write_folder(tmp_path / "in", files), settings=settings, today=date(2026, 11, 28))

    frame = build_features(extract_tables(engine, until=date(2026, 10, 1)), settings=settings)
    row = frame[(frame["customer_id"] == "C001") & (frame["month"] == pd.Timestamp("2026-10-01"))].iloc[0]
    # R1 (resolved a day after its due time) and R3 (open, past due) are complaints in October
    assert (row["complaints_3m"], row["sla_breaches_3m"], row["open_complaints"], row["last_nps"]) == (
        2.0,
        2.0,
        1.0,
        3.0,
    )
    september = frame[(frame["customer_id"] == "C001") & (frame["month"] == pd.Timestamp("2026-09-01"))].iloc[
        0
    ]
    assert (september["complaints_3m"], september["open_complaints"]) == (0.0, 0.0)
    assert np.isnan(september["last_nps"])  # the survey was answered in October
    other = frame[(frame["customer_id"] == "C002") & (frame["month"] == pd.Timestamp("2026-10-01"))]
    assert other.empty or other.iloc[0]["complaints_3m"] == 0.0
