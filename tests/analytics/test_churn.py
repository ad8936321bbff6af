"""The churn model: labels against the ground truth, the estimator API, backtest, metrics, no look-ahead."""

from __future__ import annotations

import base64
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sklearn.metrics import roc_auc_score  # type: ignore[import-untyped]
from sqlalchemy import Engine

from tests.conftest import SIM_END, SIM_TODAY
from wealthcrm import schema
from wealthcrm.analytics.churn import ChurnModel, backtest, expected_calibration_error, metrics
from wealthcrm.analytics.extract import extract_tables
from wealthcrm.analytics.features import FEATURES, build_features
from wealthcrm.analytics.labels import LABEL, OUTFLOW, training_frame
from wealthcrm.analytics.reasons import explain
from wealthcrm.analytics.tiering import tier_history
from wealthcrm.config import Settings
from wealthcrm.db import make_engine
from wealthcrm.errors import Invalid
from wealthcrm.ingest.importer import import_path
from wealthcrm.simulate import simulate_branch

CUT = date(2026, 5, 1)


def _frame(tables: dict[str, pa.Table], settings: Settings) -> pd.DataFrame:
    history = tier_history(tables, settings)
    features = build_features(tables, settings=settings, history=history)
    return training_frame(features, history, tables["customers"], settings)


@pytest.fixture(scope="module")
def tables(sim_engine: Engine) -> dict[str, pa.Table]:
    return extract_tables(sim_engine, until=SIM_END)


@pytest.fixture(scope="module")
def frame(tables: dict[str, pa.Table], sim_settings: Settings) -> pd.DataFrame:
    return _frame(tables, sim_settings)


@pytest.fixture(scope="module")
def model(frame: pd.DataFrame) -> ChurnModel:
    return ChurnModel().fit(frame)


def _ground_truth(folder: Path) -> pd.DataFrame:
    truth = pd.read_csv(folder / "ground_truth.csv")
    truth["month"] = pd.to_datetime(truth["month"])
    return truth


def test_population_and_labels_match_the_ground_truth(frame: pd.DataFrame, sim_dir: Path) -> None:
    truth = _ground_truth(sim_dir)
    joined = frame.merge(truth, on=["customer_id", "month"], how="outer", indicator=True)
    assert (joined["_merge"] == "both").all()
    known = joined[joined[LABEL].notna()]
    assert len(known) > 0.8 * len(joined)
    assert (known[LABEL] == known["lost_within_3m"]).all()
    last = frame["month"].max()
    assert frame.loc[frame["month"] <= last - pd.DateOffset(months=3), LABEL].notna().all()
    assert frame.loc[frame["month"] == last, LABEL].isna().all()
    assert frame[OUTFLOW].dropna().between(0, 1).all()


def test_fit_predict_score_summary(model: ChurnModel, frame: pd.DataFrame) -> None:
    assert model.features_ == list(FEATURES) and model.n_trees_ >= 1
    last = frame[frame["month"] == frame["month"].max()]
    out = model.predict(last)
    assert list(out.columns) == ["customer_id", "month", "p_loss", "aum_at_risk", "expected_outflow"]
    assert out["p_loss"].between(0, 1).all()
    assert np.allclose(out["aum_at_risk"], out["p_loss"] * last["aum"])
    assert ((out["expected_outflow"] >= 0) & (out["expected_outflow"] <= last["aum"])).all()
    assert 0 < model.outflow_share_kept_ < model.outflow_share_lost_ <= 1
    scored = model.score(frame)
    assert set(scored) == {"roc_auc", "lift_top10", "ece", "brier", "rows", "base_rate"}
    assert scored["roc_auc"] > 0.8
    summary = model.summary()
    assert summary["trees"] == model.n_trees_ and set(summary["importance"]) == set(FEATURES)


def test_reasons_for_the_riskiest(model: ChurnModel, frame: pd.DataFrame) -> None:
    last = frame[frame["month"] == frame["month"].max()]
    top = last.loc[model.predict_proba(last).nlargest(5).index]
    contributions = model.contributions(top)
    raw = np.asarray(model.booster_.predict(top[model.features_].to_numpy()), dtype=np.float64)
    assert np.allclose(1 / (1 + np.exp(-contributions.sum(axis=1))), raw)
    reasons = explain(contributions, top, top=3)
    assert all(1 <= len(r) <= 3 for r in reasons)
    assert all(r[0]["contribution"] >= r[-1]["contribution"] > 0 for r in reasons)


def test_artefact_round_trip(model: ChurnModel, frame: pd.DataFrame) -> None:
    again = ChurnModel.from_bytes(model.to_bytes())
    assert np.array_equal(again.predict_proba(frame), model.predict_proba(frame))
    assert again.summary() == model.summary()


def test_validation(frame: pd.DataFrame) -> None:
    with pytest.raises(Invalid, match="lacks columns: lost"):
        ChurnModel().fit(frame.drop(columns=LABEL))
    with pytest.raises(Invalid, match="not fitted"):
        ChurnModel().predict_proba(frame)
    with pytest.raises(Invalid, match="too few"):
        ChurnModel().fit(frame.head(50))


def test_metric_helpers() -> None:
    p = np.array([0.1] * 10 + [0.5] * 10)
    y = np.array([0.0] * 9 + [1.0] + [1.0] * 5 + [0.0] * 5)
    assert expected_calibration_error(p, y, bins=2) == pytest.approx(0.0)
    assert expected_calibration_error(np.full(4, 0.5), np.array([1.0, 1.0, 1.0, 1.0]), bins=2) == 0.5
    m = metrics(p, y)
    assert m["roc_auc"] == pytest.approx(roc_auc_score(y, p))
    assert m["lift_top10"] == pytest.approx(1 / 0.3)  # the top 2 rows: the first two at 0.5, both lost


def test_backtest_trains_only_on_labels_known_at_the_cutoff(frame: pd.DataFrame) -> None:
    result = backtest(frame, test_months=4)
    assert result.test_months == (pd.Timestamp("2026-04-01"), pd.Timestamp("2026-07-01"))
    assert result.cutoff == pd.Timestamp("2026-03-01")
    assert result.train_months[1] == pd.Timestamp("2025-12-01")
    assert pd.Timestamp(result.model.train_months_[1]) <= result.cutoff - pd.DateOffset(months=3)
    assert result.predictions["month"].between(*result.test_months).all()
    assert result.metrics["roc_auc"] > 0.7
    assert set(result.to_dict()) >= {"cutoff", "roc_auc", "lift_top10", "ece"}


def test_scores_have_no_look_ahead(
    sim_engine: Engine, sim_settings: Settings, model: ChurnModel, frame: pd.DataFrame
) -> None:
    """Month t scored from a DB extracted up to t equals month t scored from the full extract."""
    early_tables = extract_tables(sim_engine, until=CUT)
    early = build_features(early_tables, settings=sim_settings, months=[CUT])
    full = frame[frame["month"] == pd.Timestamp(CUT)]
    early = early.set_index("customer_id").loc[full["customer_id"]].reset_index()
    assert np.array_equal(model.predict_proba(early).to_numpy(), model.predict_proba(full).to_numpy())


@pytest.mark.slow
def test_acceptance_on_6000_customers(tmp_path: Path) -> None:
    """Backtest AUC ≥ 0.95 × oracle AUC on the same customer-months; top-decile lift ≥ 3; ECE ≤ 0.03."""
    simulate_branch(
        customers=6000,
        months=24,
        seed=1,
        out=tmp_path / "files",
        fmt="parquet",
        end_month="2026-10",
        today=SIM_TODAY,
    )
    settings = Settings(data_dir=tmp_path / "data", field_key=base64.b64encode(bytes(32)).decode())
    engine = make_engine(f"sqlite:///{tmp_path / 'sim.db'}")
    schema.upgrade(engine)
    import_path(engine, tmp_path / "files", settings=settings, today=SIM_TODAY)
    result = backtest(_frame(extract_tables(engine, until=SIM_END), settings), test_months=6)
    engine.dispose()
    joined = result.predictions.merge(_ground_truth(tmp_path / "files"), on=["customer_id", "month"])
    assert len(joined) == len(result.predictions)
    oracle = roc_auc_score(joined["lost_within_3m"], joined["p_loss_3m"])
    ours = roc_auc_score(joined["lost_within_3m"], joined["p_loss"])
    assert ours >= 0.95 * oracle
    assert result.metrics["lift_top10"] >= 3
    assert result.metrics["ece"] <= 0.03
