"""Training and backtesting the churn model on the database, and comparing it with the simulator's truth."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.metrics import roc_auc_score  # type: ignore[import-untyped]
from sqlalchemy import Engine

from wealthcrm.analytics.churn import Backtest, ChurnModel, backtest
from wealthcrm.analytics.extract import extract_tables
from wealthcrm.analytics.features import build_features
from wealthcrm.analytics.labels import LABEL, training_frame
from wealthcrm.analytics.tiering import tier_history
from wealthcrm.config import Settings
from wealthcrm.errors import Invalid


def training_data(engine: Engine, *, until: date, settings: Settings) -> pd.DataFrame:
    """Features and labels of every scored customer-month, using data (labels included) up to ``until``."""
    tables = extract_tables(engine, until=until, time_zone=settings.sla.time_zone)
    history = tier_history(tables, settings)
    features = build_features(tables, settings=settings, history=history)
    return training_frame(
        features, history, tables["customers"], settings, horizon=settings.churn.horizon_months
    )


def fit_final(frame: pd.DataFrame, *, settings: Settings, random_state: int = 0) -> ChurnModel:
    """The model to use from now on: trained on every labelled row."""
    return ChurnModel(horizon=settings.churn.horizon_months, random_state=random_state).fit(frame)


def run_backtest(frame: pd.DataFrame, *, settings: Settings, test_months: int = 6) -> Backtest:
    return backtest(frame, test_months=test_months, horizon=settings.churn.horizon_months)


@dataclass(frozen=True)
class OracleComparison:
    rows: int
    model_auc: float
    oracle_auc: float

    @property
    def ratio(self) -> float:
        return self.model_auc / self.oracle_auc

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "model_auc": round(self.model_auc, 4),
            "oracle_auc": round(self.oracle_auc, 4),
            "ratio": round(self.ratio, 4),
        }


def compare_with_oracle(predictions: pd.DataFrame, ground_truth: Path) -> OracleComparison:
    """ROC AUC of the model and of the simulator's true p_loss_3m on the same customer-months."""
    truth = pd.read_csv(ground_truth, dtype={"customer_id": str, "month": str})
    truth["month"] = pd.to_datetime(truth["month"] + "-01")
    preds = predictions.assign(month=pd.to_datetime(predictions["month"]))
    joined = preds.merge(truth, on=["customer_id", "month"], how="inner")
    if joined.empty or joined["lost_within_3m"].nunique() < 2:
        raise Invalid(f"{ground_truth} shares no labelled customer-months with the backtest")
    return OracleComparison(
        rows=len(joined),
        model_auc=float(roc_auc_score(joined[LABEL], joined["p_loss"])),
        oracle_auc=float(roc_auc_score(joined["lost_within_3m"], joined["p_loss_3m"])),
    )
