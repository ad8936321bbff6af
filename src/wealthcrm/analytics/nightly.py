"""`wealthcrm nightly`: for one month, everything the morning needs, written in one transaction.

Stages, each timed: extract (point-in-time tables) → tiers (tier history, tier and loss events) →
lifecycle (stages) → features (DuckDB) → scores (the active churn model: P(loss), AUM at risk,
expected outflow, reasons) → alerts (rules, de-duplicated against earlier nights) → write
(customer_months). Running the same month twice changes nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from wealthcrm.alerts.rules import evaluate_rules
from wealthcrm.alerts.service import upsert_alerts
from wealthcrm.analytics import registry
from wealthcrm.analytics.extract import extract_tables
from wealthcrm.analytics.features import build_features
from wealthcrm.analytics.labels import in_population
from wealthcrm.analytics.lifecycle import assign_stages
from wealthcrm.analytics.models import CustomerMonth, NightlyRun
from wealthcrm.analytics.reasons import explain
from wealthcrm.analytics.tiering import tier_history
from wealthcrm.config import Settings
from wealthcrm.db import refresh_statistics
from wealthcrm.errors import NotFound
from wealthcrm.holdings.service import latest_month
from wealthcrm.ingest.writers import upsert
from wealthcrm.recommendations.service import generate_nightly as generate_recommendations
from wealthcrm.scorecards.capability import sync_expiry_tasks
from wealthcrm.tasks.service import generate as generate_tasks

Progress = Callable[[str], None]
HISTORY_COLUMNS = [
    "customer_id", "month", "aum", "tier", "tier_met", "watch", "months_below", "tier_event",
    "customer_loss", "asset_loss_amount", "stage",
]  # fmt: skip
SCORE_COLUMNS = [
    "customer_id",
    "month",
    "p_loss",
    "aum_at_risk",
    "expected_outflow",
    "reasons",
    "model_version_id",
]


@dataclass
class NightlyResult:
    month: date
    stages: dict[str, float] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    model_version_id: int | None = None
    run_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "month": self.month.isoformat(),
            "model_version_id": self.model_version_id,
            "seconds": {k: round(v, 3) for k, v in self.stages.items()},
            "total_seconds": round(sum(self.stages.values()), 3),
            "rows": self.rows,
            "run_id": self.run_id,
        }


def _months_stored(session: Session) -> set[pd.Timestamp]:
    return {pd.Timestamp(m) for m in session.scalars(select(CustomerMonth.month).distinct())}


def score_month(
    session: Session,
    history: pd.DataFrame,
    features: pd.DataFrame,
    tables: dict[str, Any],
    settings: Settings,
) -> tuple[pd.DataFrame, int | None]:
    """Scores of the month's scored population (sunflower-or-above, open) with the active model."""
    version = registry.get_active(session)
    if version is None:
        return pd.DataFrame(columns=SCORE_COLUMNS), None
    model = registry.load(version)
    population = history[in_population(history, tables["customers"], settings).to_numpy()]
    keep = ["customer_id", "month"] + ([] if "aum" in features.columns else ["aum"])
    rows = features.merge(population[keep], on=["customer_id", "month"])
    if rows.empty:
        return pd.DataFrame(columns=SCORE_COLUMNS), version.id
    scores = model.predict(rows)
    scores["reasons"] = pd.Series(explain(model.contributions(rows), rows), index=scores.index, dtype=object)
    scores["model_version_id"] = version.id
    return scores[SCORE_COLUMNS], version.id


#: Months of detail the features of one month read: the 6 before it (``aum_chg_6m``, the previous
#: 3 months of the trends and ``payroll_stopped``).
FEATURE_LOOKBACK_MONTHS = 6


def recent_months(settings: Settings) -> int:
    """How many months before the night's month the nightly extracts AUM and transactions for: the
    features' lookback, or longer when the reinvestment window of the not-reinvested alert (which
    looks back from a deadline in this month to the maturity day) reaches further."""
    return max(FEATURE_LOOKBACK_MONTHS, -(-settings.alerts.reinvest_days // 28) + 1)


def run_nightly(
    engine: Engine, *, month: date | None = None, settings: Settings, progress: Progress | None = None
) -> NightlyResult:
    """Run every stage for ``month`` (default: the latest month with AUM data) and commit once."""
    started_at = datetime.now(UTC).replace(tzinfo=None)
    with Session(engine) as session, session.begin():
        month = (month or latest_month(session) or date.min).replace(day=1)
        if month == date.min:
            raise NotFound("no AUM data yet: import aum_monthly first")
        result = NightlyResult(month=month)
        target = pd.Timestamp(month)

        @contextmanager
        def stage(name: str) -> Iterator[None]:
            if progress:
                progress(name)
            t0 = time.perf_counter()
            yield
            result.stages[name] = time.perf_counter() - t0

        with stage("extract"):
            tables = extract_tables(
                engine, until=month, recent_months=recent_months(settings), time_zone=settings.sla.time_zone
            )
        with stage("tiers"):
            history = tier_history(tables, settings)
            if not (history["month"] == target).any():
                raise NotFound(f"no AUM data for {month:%Y-%m}")
        with stage("lifecycle"):
            stages = assign_stages(history, tables, settings)
            history = history.merge(stages, on=["customer_id", "month"], how="left")
        with stage("features"):
            features = build_features(tables, settings=settings, months=[month], history=history)
        with stage("scores"):
            scores, result.model_version_id = score_month(session, history, features, tables, settings)
        with stage("alerts"):
            candidates = evaluate_rules(tables, history, month, settings)
            synced = upsert_alerts(session, month=month, candidates=candidates, now=started_at)
            result.rows["alerts_created"] = synced.created
            result.rows["alerts_updated"] = synced.updated
            result.rows["alerts_closed"] = synced.closed
        with stage("write"):
            # Tier and stage rows for months not stored yet (the first run backfills) and this month.
            stored = _months_stored(session) - {target}
            fresh = history[~history["month"].isin(stored)][HISTORY_COLUMNS]
            if not scores.empty:  # one frame: SQLite checks NOT NULL before an upsert's conflict
                scores = scores.assign(month=pd.to_datetime(scores["month"]))
                fresh = fresh.merge(scores, on=["customer_id", "month"], how="left")
            result.rows["customer_months"] = len(fresh)
            upsert(session.connection(), CustomerMonth.__table__, _typed(fresh))  # type: ignore[arg-type]
            result.rows["scored"] = len(scores)
            result.rows["recommendations"] = generate_recommendations(
                session, month=month, today=started_at.date(), settings=settings
            )
            # Today's task list from tonight's results (counts as rows: tasks_created, tasks_closed…)
            tasks = generate_tasks(session, on=date.today(), settings=settings).to_dict()
            result.rows.update({f"tasks_{name}": count for name, count in tasks.items()})
            # staff tasks: qualifications about to expire (the RMs' own, not their customers')
            expiring = sync_expiry_tasks(session, on=date.today(), settings=settings)
            result.rows["tasks_qualification_expiry"] = expiring.created
            run = NightlyRun(
                month=month, started_at=started_at, finished_at=datetime.now(UTC).replace(tzinfo=None),
                model_version_id=result.model_version_id, stages=dict(result.stages), rows=dict(result.rows),
            )  # fmt: skip
            session.add(run)
            session.flush()
            result.run_id = run.id
    # committed: refresh the planner's statistics, so the morning's pages find the new rows fast
    t0 = time.perf_counter()
    refresh_statistics(engine)
    result.stages["statistics"] = time.perf_counter() - t0
    return result


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns as the bulk writer expects them (plain objects for JSON, NaN → None)."""
    out = frame.copy()
    out["month"] = pd.to_datetime(out["month"]).astype("datetime64[s]")
    if "reasons" in out:
        out["reasons"] = [_json(r) if isinstance(r, list) else None for r in out["reasons"]]
    if "model_version_id" in out:
        out["model_version_id"] = (
            out["model_version_id"]
            .astype("Int64")
            .astype(object)
            .where(out["model_version_id"].notna(), None)
        )
    if "tier_event" in out:
        out["tier_event"] = out["tier_event"].astype(object).where(out["tier_event"].notna(), None)
    for name in ("asset_loss_amount", "p_loss", "aum_at_risk", "expected_outflow"):
        if name in out:
            out[name] = out[name].astype("float64")
    for name in ("watch", "customer_loss"):
        if name in out:
            out[name] = out[name].astype(bool)
    if "months_below" in out:
        out["months_below"] = out["months_below"].astype(np.int64)
    return out


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
