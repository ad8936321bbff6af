"""The churn model: P(customer loss within 3 months), calibrated, its expected outflow, and a backtest.

**Model.** LightGBM (``LGBM_PARAMS``: small trees, row and column subsampling, L2) on the features of
:mod:`wealthcrm.analytics.features`. The number of trees is chosen by early stopping inside a 4-fold
split *by customer* (a customer's months never sit on both sides), and the out-of-fold scores calibrate
the final model with Platt scaling on the log-odds (two numbers, stable with the few hundred losses a
branch has, and easy to store; isotonic regression would need many more positives).

**Expected outflow** over the next 3 months, CNY: ``aum × (p × s_lost + (1 − p) × s_kept)``, where
``s_lost`` and ``s_kept`` are the mean shares of AUM gone 3 months later among the training rows that
were and were not lost. Why this and not a second regression: it is consistent with P(loss) by
construction, has two learned numbers an RM or auditor can check, and the ranking it gives is the
ranking of *AUM at risk* (P(loss) × AUM, the SPEC's figure) plus the background outflow of customers who
stay.

**Backtest.** Train as if on the last day of a cut-off month: rows of months *t* ≤ cut-off − 3 only
(their labels need data up to the cut-off and no later); test on the months after the cut-off whose
labels are known.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
from sklearn.metrics import roc_auc_score  # type: ignore[import-untyped]
from sklearn.model_selection import GroupKFold  # type: ignore[import-untyped]

from wealthcrm.analytics.evaluate import lift_at
from wealthcrm.analytics.features import FEATURES
from wealthcrm.analytics.labels import LABEL, OUTFLOW
from wealthcrm.errors import Invalid

LGBM_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.03,
    "num_leaves": 15,
    "min_data_in_leaf": 40,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "feature_fraction": 0.8,
    "lambda_l2": 5.0,
    "verbose": -1,
}
MAX_TREES = 2000
EARLY_STOPPING_ROUNDS = 100
FOLDS = 4
FORMAT = 1


def expected_calibration_error(p: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    """ECE over ``bins`` equal-frequency bins: Σ (rows in bin / rows) × |mean p − observed rate|."""
    order = np.argsort(p, kind="stable")
    total = 0.0
    for chunk in np.array_split(order, bins):
        if len(chunk):
            total += len(chunk) / len(p) * abs(float(p[chunk].mean()) - float(y[chunk].mean()))
    return total


def metrics(p: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """ROC AUC, lift in the top 10%, ECE (10 equal-frequency bins), Brier score, rows and base rate."""
    return {
        "roc_auc": float(roc_auc_score(y, p)),
        "lift_top10": lift_at(p, y.astype(np.int64)),
        "ece": expected_calibration_error(p, y),
        "brier": float(np.mean((p - y) ** 2)),
        "rows": float(len(y)),
        "base_rate": float(y.mean()),
    }


def _logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(p, 1e-6, 1 - 1e-6)
    return np.asarray(np.log(q / (1 - q)), dtype=np.float64)


class ChurnModel:
    """P(customer loss within ``horizon`` months) from the churn features, calibrated.

    Parameters
    ----------
    horizon : months ahead the label looks (the labels in ``fit``'s frame must use the same).
    random_state : seed of LightGBM and of nothing else (the folds are by customer, not random).
    n_jobs : LightGBM threads.

    Attributes
    ----------
    booster_ : lightgbm.Booster; features_ : list[str]; n_trees_ : int
    calibration_ : (slope, intercept) of Platt scaling on the raw log-odds
    outflow_share_lost_, outflow_share_kept_ : mean 3-month AUM share gone, lost and kept customers
    train_months_ : (first, last) month trained on; train_metrics_ : out-of-fold metrics

    Examples
    --------
    >>> model = ChurnModel().fit(train)  # doctest: +SKIP
    >>> model.predict(test)[["customer_id", "p_loss", "aum_at_risk"]].head()  # doctest: +SKIP
    """

    def __init__(self, *, horizon: int = 3, random_state: int = 0, n_jobs: int = 2) -> None:
        self.horizon = horizon
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _params(self) -> dict[str, Any]:
        return {**LGBM_PARAMS, "seed": self.random_state, "num_threads": self.n_jobs}

    def fit(self, df: pd.DataFrame) -> ChurnModel:
        """Fit on rows with customer_id, month, the FEATURES, ``lost`` and ``outflow_share``; rows whose
        label is unknown (NaN) are ignored."""
        missing = [c for c in ("customer_id", "month", LABEL, *FEATURES) if c not in df.columns]
        if missing:
            raise Invalid(f"training frame lacks columns: {', '.join(missing)}")
        rows = df[df[LABEL].notna()]
        y = rows[LABEL].to_numpy(dtype=np.float64)
        if len(rows) < 100 or y.sum() < 2 * FOLDS or y.sum() == len(y):
            raise Invalid(f"too few labelled rows or losses to train ({len(rows)} rows, {int(y.sum())} lost)")
        self.features_ = list(FEATURES)
        x = rows[self.features_].to_numpy(dtype=np.float64)
        oof = np.empty(len(y))
        best = []
        folds = GroupKFold(n_splits=FOLDS).split(x, y, groups=rows["customer_id"].to_numpy())
        for train, valid in folds:
            booster = lgb.train(
                self._params(),
                lgb.Dataset(x[train], y[train]),
                num_boost_round=MAX_TREES,
                valid_sets=[lgb.Dataset(x[valid], y[valid])],
                callbacks=[lgb.early_stopping(EARLY_STOPPING_ROUNDS, verbose=False)],
            )
            best.append(booster.best_iteration)
            oof[valid] = booster.predict(x[valid], num_iteration=booster.best_iteration)
        self.n_trees_ = max(1, round(float(np.mean(best)) * FOLDS / (FOLDS - 1)))
        platt = LogisticRegression(C=1e6).fit(_logit(oof)[:, None], y)
        self.calibration_ = (float(platt.coef_[0, 0]), float(platt.intercept_[0]))
        self.booster_ = lgb.train(self._params(), lgb.Dataset(x, y), num_boost_round=self.n_trees_)
        share = rows[OUTFLOW].to_numpy(dtype=np.float64) if OUTFLOW in rows else np.zeros(len(y))
        known = ~np.isnan(share)
        self.outflow_share_lost_ = (
            float(np.mean(share[known & (y == 1)])) if (known & (y == 1)).any() else 0.0
        )
        self.outflow_share_kept_ = (
            float(np.mean(share[known & (y == 0)])) if (known & (y == 0)).any() else 0.0
        )
        months = pd.to_datetime(rows["month"])
        self.train_months_ = (months.min().date(), months.max().date())
        self.train_metrics_ = metrics(self._calibrate(oof), y)
        return self

    def _calibrate(self, raw: np.ndarray) -> np.ndarray:
        slope, intercept = self.calibration_
        return np.asarray(1 / (1 + np.exp(-(slope * _logit(raw) + intercept))), dtype=np.float64)

    def _x(self, df: pd.DataFrame) -> np.ndarray:
        if not hasattr(self, "booster_"):
            raise Invalid("the model is not fitted: call fit() first")
        return np.asarray(df[self.features_].to_numpy(dtype=np.float64))

    def predict_proba(self, df: pd.DataFrame) -> pd.Series:
        """Calibrated P(loss within the horizon), one value a row, named ``p_loss``."""
        x = self._x(df)
        raw = np.asarray(self.booster_.predict(x), dtype=np.float64)
        return pd.Series(self._calibrate(raw), index=df.index, name="p_loss")

    def contributions(self, df: pd.DataFrame) -> pd.DataFrame:
        """Each feature's contribution to the raw log-odds (LightGBM ``pred_contrib``), plus ``bias``."""
        x = self._x(df)
        values = np.asarray(self.booster_.predict(x, pred_contrib=True), dtype=np.float64)
        return pd.DataFrame(values, index=df.index, columns=[*self.features_, "bias"])

    def predict(self, df: pd.DataFrame) -> pd.DataFrame:
        """customer_id, month, p_loss, aum_at_risk (P × AUM) and expected_outflow (CNY, next 3 months)."""
        p = self.predict_proba(df)
        aum = df["aum"].astype("float64")
        share = p * self.outflow_share_lost_ + (1 - p) * self.outflow_share_kept_
        return pd.DataFrame(
            {
                "customer_id": df["customer_id"],
                "month": df["month"],
                "p_loss": p,
                "aum_at_risk": p * aum,
                "expected_outflow": share * aum,
            },
            index=df.index,
        )

    def score(self, df: pd.DataFrame) -> dict[str, float]:
        """Metrics (ROC AUC, top-10% lift, ECE, Brier) on the rows of ``df`` whose label is known."""
        rows = df[df[LABEL].notna()]
        return metrics(self.predict_proba(rows).to_numpy(), rows[LABEL].to_numpy(dtype=np.float64))

    def summary(self) -> dict[str, Any]:
        """What was learned, for the registry and for people: trees, calibration, outflow shares, metrics."""
        return {
            "horizon": self.horizon,
            "random_state": self.random_state,
            "trees": self.n_trees_,
            "calibration": list(self.calibration_),
            "outflow_share_lost": self.outflow_share_lost_,
            "outflow_share_kept": self.outflow_share_kept_,
            "train_from": self.train_months_[0].isoformat(),
            "train_until": self.train_months_[1].isoformat(),
            "train_oof_metrics": self.train_metrics_,
            "params": {**LGBM_PARAMS, "max_trees": MAX_TREES, "early_stopping_rounds": EARLY_STOPPING_ROUNDS},
            "importance": dict(
                zip(self.features_, self.booster_.feature_importance("gain").round(1).tolist(), strict=True)
            ),
        }

    def to_bytes(self) -> bytes:
        """The artefact: JSON with the LightGBM model string, calibration and feature list (no pickle)."""
        state = {"format": FORMAT, "model": self.booster_.model_to_string(), "features": self.features_}
        state.update({k: v for k, v in self.summary().items() if k != "importance"})
        return json.dumps(state, ensure_ascii=False).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> ChurnModel:
        state = json.loads(data.decode("utf-8"))
        if state.get("format") != FORMAT:
            raise Invalid(f"unknown churn model artefact format {state.get('format')!r}")
        model = cls(horizon=int(state["horizon"]), random_state=int(state["random_state"]))
        model.booster_ = lgb.Booster(model_str=state["model"])
        model.features_ = list(state["features"])
        model.n_trees_ = int(state["trees"])
        model.calibration_ = (float(state["calibration"][0]), float(state["calibration"][1]))
        model.outflow_share_lost_ = float(state["outflow_share_lost"])
        model.outflow_share_kept_ = float(state["outflow_share_kept"])
        first, last = (pd.Timestamp(state[k]).date() for k in ("train_from", "train_until"))
        model.train_months_ = (first, last)
        model.train_metrics_ = dict(state["train_oof_metrics"])
        return model


@dataclass
class Backtest:
    """A time-based backtest: the cut-off, the months trained and tested on, metrics, predictions."""

    cutoff: pd.Timestamp
    train_months: tuple[pd.Timestamp, pd.Timestamp]
    test_months: tuple[pd.Timestamp, pd.Timestamp]
    metrics: dict[str, float]
    predictions: pd.DataFrame  # customer_id, month, lost, p_loss
    model: ChurnModel = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "cutoff": self.cutoff.date().isoformat(),
            "train_months": [m.date().isoformat() for m in self.train_months],
            "test_months": [m.date().isoformat() for m in self.test_months],
            **self.metrics,
        }


def backtest(
    frame: pd.DataFrame, *, test_months: int = 6, horizon: int = 3, random_state: int = 0
) -> Backtest:
    """Train on months up to cut-off − horizon, test on the ``test_months`` labelled months after it.

    The cut-off is the month before the first test month; the test months are the last
    ``test_months`` months of ``frame`` whose labels are all known.
    """
    months = pd.DatetimeIndex(sorted(frame["month"].unique()))
    labelled = [m for m in months if frame.loc[frame["month"] == m, LABEL].notna().all()]
    if len(labelled) < test_months + horizon + 2:
        raise Invalid(f"{len(labelled)} labelled months are too few for a {test_months}-month backtest")
    tested = labelled[-test_months:]
    cutoff = tested[0] - pd.DateOffset(months=1)
    last_train = cutoff - pd.DateOffset(months=horizon)
    train = frame[frame["month"] <= last_train]
    test = frame[frame["month"].isin(tested) & frame[LABEL].notna()]
    model = ChurnModel(horizon=horizon, random_state=random_state).fit(train)
    p = model.predict_proba(test)
    predictions = pd.DataFrame(
        {"customer_id": test["customer_id"], "month": test["month"], LABEL: test[LABEL], "p_loss": p}
    ).reset_index(drop=True)
    return Backtest(
        cutoff=pd.Timestamp(cutoff),
        train_months=(pd.Timestamp(train["month"].min()), pd.Timestamp(last_train)),
        test_months=(pd.Timestamp(tested[0]), pd.Timestamp(tested[-1])),
        metrics=metrics(predictions["p_loss"].to_numpy(), predictions[LABEL].to_numpy(dtype=np.float64)),
        predictions=predictions,
        model=model,
    )
