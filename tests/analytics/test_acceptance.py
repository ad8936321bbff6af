"""Issue 4's acceptance: the default churn model on a simulated branch of 20,000 customers × 24 months,
against the simulator's true probabilities. Slow (several minutes): run with ``pytest -m slow``.

``bench/backtest_seeds.py`` runs the same for seeds 1, 2 and 3 (the figures in docs/analytics.md);
this test takes another seed. It needs one SQLite file, not a database server: what it checks is
the model, and the database code it passes through is tested on both backends elsewhere.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wealthcrm import schema
from wealthcrm.cli.main import app
from wealthcrm.config import Settings
from wealthcrm.db import make_engine
from wealthcrm.ingest.importer import import_path
from wealthcrm.simulate import simulate_branch

from ..conftest import TEST_FIELD_KEY

SEED = 4
CUSTOMERS = 20_000
TODAY = date(2026, 11, 28)


@pytest.mark.slow
def test_default_model_against_the_oracle_on_a_20k_branch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    branch = tmp_path / "branch"
    simulate_branch(
        customers=CUSTOMERS, months=24, seed=SEED, out=branch, fmt="parquet", end_month="2026-10", today=TODAY
    )
    url = f"sqlite:///{tmp_path / 'branch.db'}"
    settings = Settings(data_dir=tmp_path / "data", field_key=TEST_FIELD_KEY)
    engine = make_engine(url)
    schema.upgrade(engine)
    import_path(engine, branch, settings=settings, today=TODAY)
    engine.dispose()

    monkeypatch.setenv("WEALTHCRM_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("WEALTHCRM_FIELD_KEY", TEST_FIELD_KEY)
    truth = str(branch / "ground_truth.csv")
    result = CliRunner().invoke(
        app, ["--database", url, "model", "backtest", "--ground-truth", truth, "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)

    oracle = report["oracle"]
    assert report["test_months"] == ["2026-02-01", "2026-07-01"]
    assert oracle["rows"] == report["rows"] > 15_000  # every tested customer-month has a true probability
    assert report["roc_auc"] >= 0.95 * oracle["oracle_auc"]
    assert report["lift_top10"] >= 3
    assert report["ece"] <= 0.03
