"""Model registry on every backend: save, list, get, activate (one active per kind), load."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest
from sqlalchemy.orm import Session

from wealthcrm.analytics import registry
from wealthcrm.analytics.churn import ChurnModel
from wealthcrm.analytics.features import FEATURES
from wealthcrm.errors import Invalid, NotFound


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 2000
    data = pd.DataFrame(rng.normal(size=(n, len(FEATURES))), columns=list(FEATURES))
    data["aum"] = rng.uniform(5e5, 5e6, n)
    risk = 1 / (1 + np.exp(-(2 * data["aum_chg_3m"] - 3)))
    data["lost"] = (rng.uniform(size=n) < risk).astype("float64")
    data["outflow_share"] = np.where(data["lost"] == 1, 0.8, 0.05)
    data["customer_id"] = [f"C{i % 400:08d}" for i in range(n)]
    data["month"] = pd.to_datetime("2025-01-01") + pd.to_timedelta(0, "D")
    data.loc[n // 2 :, "month"] = pd.Timestamp("2025-06-01")
    return data


@pytest.fixture(scope="module")
def model(frame: pd.DataFrame) -> ChurnModel:
    return ChurnModel().fit(frame)


def test_save_get_list_activate_load(session: Session, model: ChurnModel, frame: pd.DataFrame) -> None:
    first = registry.save(
        session, model=model, metrics={"roc_auc": 0.9}, notes="first", now=datetime(2026, 11, 1, 2, 0)
    )
    second = registry.save(session, model=model, activate=True, now=datetime(2026, 11, 2, 2, 0))
    assert registry.get(session, id=first.id).notes == "first"
    assert [v.id for v in registry.list(session, kind="churn")] == [second.id, first.id]
    assert registry.list(session, kind="other") == []
    assert first.features == list(FEATURES) and first.horizon_months == 3
    assert first.metrics["backtest"] == {"roc_auc": 0.9}
    assert first.train_from.isoformat() == "2025-01-01" and first.train_until.isoformat() == "2025-06-01"
    assert registry.get_active(session) == second

    registry.activate(session, id=first.id)
    assert registry.get_active(session) == first
    assert [v.is_active for v in registry.list(session)] == [False, True]

    loaded = registry.load(registry.get(session, id=first.id))
    assert np.array_equal(loaded.predict_proba(frame), model.predict_proba(frame))


def test_errors(session: Session) -> None:
    with pytest.raises(NotFound):
        registry.get(session, id=999)
    with pytest.raises(NotFound):
        registry.activate(session, id=999)
    with pytest.raises(Invalid):
        registry.save(session, model=ChurnModel())
    assert registry.get_active(session) is None
