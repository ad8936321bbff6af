"""The nightly batch end to end on a simulated branch, on SQLite and PostgreSQL: idempotent, scored."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from wealthcrm.alerts.models import Alert
from wealthcrm.analytics import registry
from wealthcrm.analytics.models import CustomerMonth, NightlyRun
from wealthcrm.analytics.nightly import run_nightly
from wealthcrm.analytics.training import fit_final, training_data
from wealthcrm.cli.main import app
from wealthcrm.config import NightlySettings, Settings
from wealthcrm.db import session_scope
from wealthcrm.ingest.importer import import_path
from wealthcrm.vocab import Stage, Tier

from ..conftest import SIM_END, SIM_TODAY, TEST_FIELD_KEY

MONTH = SIM_END


@pytest.fixture
def branch(engine: Engine, sim_dir: Path, settings: Settings) -> Engine:
    import_path(engine, sim_dir, settings=settings, today=SIM_TODAY)
    return engine


def snapshot(engine: Engine) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    with session_scope(engine) as session:
        months = session.execute(
            select(
                CustomerMonth.customer_id,
                CustomerMonth.month,
                CustomerMonth.tier,
                CustomerMonth.stage,
                CustomerMonth.p_loss,
                CustomerMonth.watch,
            ).order_by(CustomerMonth.customer_id, CustomerMonth.month)
        ).all()
        alerts = session.execute(
            select(
                Alert.dedupe_key, Alert.status, Alert.severity, Alert.first_month, Alert.last_month
            ).order_by(Alert.dedupe_key)
        ).all()
    return [tuple(r) for r in months], [tuple(r) for r in alerts]


def in_slices(settings: Settings, size: int = 97) -> Settings:
    return settings.model_copy(update={"nightly": NightlySettings(slice_customers=size)})


def scored_reasons(engine: Engine) -> list[tuple[object, ...]]:
    with session_scope(engine) as session:
        rows = session.execute(
            select(CustomerMonth.customer_id, CustomerMonth.aum_at_risk, CustomerMonth.reasons)
            .where(CustomerMonth.month == MONTH, CustomerMonth.p_loss.is_not(None))
            .order_by(CustomerMonth.customer_id)
        ).all()
    return [tuple(r) for r in rows]


def test_nightly_without_a_model_writes_tiers_stages_and_alerts_once(
    branch: Engine, settings: Settings
) -> None:
    # the first night backfills in slices of 97 customers; the second, in one slice, changes nothing
    first = run_nightly(branch, month=MONTH, settings=in_slices(settings))
    assert first.rows["customer_slices"] > 2
    assert first.model_version_id is None
    stages = ["extract", "tiers", "lifecycle", "features", "scores", "alerts", "write", "statistics"]
    assert list(first.stages) == stages
    if branch.dialect.name == "sqlite":  # the planner's statistics were refreshed after the commit
        with branch.connect() as conn:
            analysed = {r[0] for r in conn.exec_driver_sql("SELECT tbl FROM sqlite_stat1").all()}
        assert {"customer_months", "alerts", "tasks", "customers"} <= analysed
    before = snapshot(branch)
    months, alerts = before
    assert first.rows["customer_months"] == len(months) > 1500
    assert first.rows["alerts_created"] == len(alerts) > 0
    assert {m[3] for m in months} >= {Stage.mature, Stage.declining, Stage.churned}

    again = run_nightly(branch, month=MONTH, settings=settings)
    assert again.rows["customer_slices"] == 1
    assert (again.rows["alerts_created"], again.rows["alerts_updated"], again.rows["alerts_closed"]) == (
        0,
        0,
        0,
    )
    assert snapshot(branch) == before
    with session_scope(branch) as session:
        assert session.scalar(select(func.count()).select_from(NightlyRun)) == 2


def test_nightly_scores_with_the_active_model(branch: Engine, settings: Settings, tmp_path: Path) -> None:
    model = fit_final(training_data(branch, until=date(2026, 7, 1), settings=settings), settings=settings)
    with session_scope(branch) as session:
        version = registry.save(session, model=model, activate=True)
        version_id = version.id

    result = run_nightly(branch, month=MONTH, settings=settings)

    assert result.model_version_id == version_id
    with session_scope(branch) as session:
        scored = session.scalars(
            select(CustomerMonth).where(CustomerMonth.month == MONTH, CustomerMonth.p_loss.is_not(None))
        ).all()
        assert len(scored) == result.rows["scored"] > 50
        for row in scored:
            assert row.tier in (Tier.sunflower, Tier.diamond, Tier.private)
            assert 0 < row.p_loss < 1
            assert row.aum_at_risk == pytest.approx(row.p_loss * row.aum, rel=1e-6, abs=0.01)
            assert row.model_version_id == version_id
            assert row.reasons is not None
            assert all({"feature", "en", "zh"} <= set(r) for r in row.reasons)
        unscored = session.scalar(
            select(func.count())
            .select_from(CustomerMonth)
            .where(
                CustomerMonth.month == MONTH,
                CustomerMonth.tier.in_([Tier.gold, Tier.mass]),
                CustomerMonth.p_loss.is_not(None),
            )
        )
        assert unscored == 0
    # the same night in slices of customers scores, explains and alerts exactly the same
    before = snapshot(branch)
    reasons = scored_reasons(branch)
    sliced = run_nightly(branch, month=MONTH, settings=in_slices(settings, 61))
    assert sliced.rows["customer_slices"] > 3
    assert sliced.rows["scored"] == result.rows["scored"]
    assert (sliced.rows["alerts_created"], sliced.rows["alerts_updated"], sliced.rows["alerts_closed"]) == (
        0,
        0,
        0,
    )
    assert snapshot(branch) == before
    assert scored_reasons(branch) == reasons

    out = tmp_path / "scores.csv"
    runner = CliRunner()
    args = [
        "--database",
        str(branch.url.render_as_string(hide_password=False)),
        "scores",
        "export",
        "--month",
        f"{MONTH:%Y-%m}",
        "--out",
        str(out),
    ]
    res = runner.invoke(app, args, env={"WEALTHCRM_FIELD_KEY": TEST_FIELD_KEY})
    assert res.exit_code == 0, res.output
    with out.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == [
        "customer_id",
        "month",
        "p_loss",
        "aum",
        "aum_at_risk",
        "expected_outflow",
        "stage",
        "tier",
        "reasons",
    ]
    assert len(rows) == len(scored)
    at_risk = [float(r["aum_at_risk"]) for r in rows]
    assert at_risk == sorted(at_risk, reverse=True)
    assert json.dumps(rows[0]["reasons"])  # non-empty text
