"""`wealthcrm nightly`: for one month, everything the morning needs, written in one transaction.

Stages, each timed: extract (point-in-time tables) → tiers (tier history, tier and loss events) →
lifecycle (stages) → features (DuckDB) → scores (the active churn model: P(loss), AUM at risk,
expected outflow, reasons) → alerts (rules, de-duplicated against earlier nights) → write
(customer_months). A large branch goes through these in slices of customers (``nightly.slice_customers``).
Running the same month twice changes nothing.
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
import pyarrow as pa
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from wealthcrm.alerts.rules import evaluate_rules
from wealthcrm.alerts.service import upsert_alerts
from wealthcrm.analytics import registry
from wealthcrm.analytics.churn import ChurnModel
from wealthcrm.analytics.extract import customer_ranges, extract_tables
from wealthcrm.analytics.features import build_features
from wealthcrm.analytics.labels import in_population
from wealthcrm.analytics.lifecycle import assign_stages
from wealthcrm.analytics.models import CustomerMonth, NightlyRun
from wealthcrm.analytics.reasons import explain
from wealthcrm.analytics.tiering import tier_history
from wealthcrm.config import Settings
from wealthcrm.db import refresh_statistics
from wealthcrm.errors import NotFound
from wealthcrm.holdings.models import AumMonthly
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
    model: ChurnModel | None,
    version_id: int | None,
    history: pd.DataFrame,
    features: pd.DataFrame,
    tables: dict[str, Any],
    settings: Settings,
) -> pd.DataFrame:
    """Scores of the month's scored population (sunflower-or-above, open) with the active model."""
    if model is None:
        return pd.DataFrame(columns=SCORE_COLUMNS)
    population = history[in_population(history, tables["customers"], settings).to_numpy()]
    keep = ["customer_id", "month"] + ([] if "aum" in features.columns else ["aum"])
    rows = features.merge(population[keep], on=["customer_id", "month"])
    if rows.empty:
        return pd.DataFrame(columns=SCORE_COLUMNS)
    scores = model.predict(rows)
    scores["reasons"] = pd.Series(explain(model.contributions(rows), rows), index=scores.index, dtype=object)
    scores["model_version_id"] = version_id
    return scores[SCORE_COLUMNS]


#: Months of detail the features of one month read: the 6 before it (``aum_chg_6m``, the previous
#: 3 months of the trends and ``payroll_stopped``).
FEATURE_LOOKBACK_MONTHS = 6


def recent_months(settings: Settings) -> int:
    """How many months before the night's month the nightly extracts AUM and transactions for: the
    features' lookback, or longer when the reinvestment window of the not-reinvested alert (which
    looks back from a deadline in this month to the maturity day) reaches further."""
    return max(FEATURE_LOOKBACK_MONTHS, -(-settings.alerts.reinvest_days // 28) + 1)


def _has_month(session: Session, month: date) -> bool:
    return session.scalar(select(AumMonthly.month).where(AumMonthly.month == month).limit(1)) is not None


def run_nightly(
    engine: Engine, *, month: date | None = None, settings: Settings, progress: Progress | None = None
) -> NightlyResult:
    """Run every stage for ``month`` (default: the latest month with AUM data) and commit once.

    Everything up to the alerts' candidates is per customer, so the stages run over slices of
    ``nightly.slice_customers`` customers (by ID), one after the other, each slice's tier and score
    rows written before the next is read: the memory the night needs is a slice's. The alerts are
    reconciled with the stored ones once, over every slice's candidates, then recommendations and
    tasks are made from what was written. The seconds of a stage are summed over the slices."""
    started_at = datetime.now(UTC).replace(tzinfo=None)
    with Session(engine) as session, session.begin():
        month = (month or latest_month(session) or date.min).replace(day=1)
        if month == date.min:
            raise NotFound("no AUM data yet: import aum_monthly first")
        if not _has_month(session, month):
            raise NotFound(f"no AUM data for {month:%Y-%m}")
        result = NightlyResult(month=month)
        target = pd.Timestamp(month)

        part = ""  # " (2/5)" while the stages run on the second of five slices

        @contextmanager
        def stage(name: str) -> Iterator[None]:
            if progress:
                progress(name + part)
            t0 = time.perf_counter()
            yield
            result.stages[name] = result.stages.get(name, 0.0) + time.perf_counter() - t0

        version = registry.get_active(session)
        model = registry.load(version) if version is not None else None
        result.model_version_id = version.id if version is not None else None
        t0 = time.perf_counter()
        slices = customer_ranges(engine, until=month, size=settings.nightly.slice_customers)
        # tier and stage rows for months not stored yet (the first run backfills) and this month
        stored = _months_stored(session) - {target}
        result.stages["extract"] = time.perf_counter() - t0
        candidates: list[pd.DataFrame] = []
        for n, keys in enumerate(slices):
            part = f" ({n + 1}/{len(slices)})" if len(slices) > 1 else ""
            with stage("extract"):
                tables = extract_tables(
                    engine, until=month, recent_months=recent_months(settings),
                    time_zone=settings.sla.time_zone, customers=keys,
                )  # fmt: skip
            with stage("tiers"):
                history = tier_history(tables, settings)
            with stage("lifecycle"):
                stages = assign_stages(history, tables, settings)
                history = history.merge(stages, on=["customer_id", "month"], how="left")
                del stages
            with stage("features"):
                features = build_features(tables, settings=settings, months=[month], history=history)
            with stage("scores"):
                scores = score_month(model, result.model_version_id, history, features, tables, settings)
                del features
            with stage("alerts"):
                candidates.append(evaluate_rules(tables, history, month, settings))
                del tables
            with stage("write"):
                fresh = history[~history["month"].isin(stored)][HISTORY_COLUMNS]
                del history
                if not scores.empty:  # one frame: SQLite checks NOT NULL before an upsert's conflict
                    scores = scores.assign(month=pd.to_datetime(scores["month"]))
                    fresh = fresh.merge(scores, on=["customer_id", "month"], how="left")
                result.rows["customer_months"] = result.rows.get("customer_months", 0) + len(fresh)
                result.rows["scored"] = result.rows.get("scored", 0) + len(scores)
                # in slices, the next slice reads customers while this one's rows wait for the commit
                upsert(
                    session.connection(), CustomerMonth.__table__,  # type: ignore[arg-type]
                    _typed(fresh), keep_foreign_keys=len(slices) > 1,
                )  # fmt: skip
                del fresh, scores
            pa.default_memory_pool().release_unused()  # a slice's Arrow buffers, before the next
        part = ""
        with stage("alerts"):
            synced = upsert_alerts(
                session, month=month, candidates=pd.concat(candidates, ignore_index=True), now=started_at
            )
            result.rows["alerts_created"] = synced.created
            result.rows["alerts_updated"] = synced.updated
            result.rows["alerts_closed"] = synced.closed
        with stage("write"):
            result.rows["recommendations"] = generate_recommendations(
                session, month=month, today=started_at.date(), settings=settings
            )
            # Today's task list from tonight's results (counts as rows: tasks_created, tasks_closed…)
            tasks = generate_tasks(session, on=date.today(), settings=settings).to_dict()
            result.rows.update({f"tasks_{name}": count for name, count in tasks.items()})
            # staff tasks: qualifications about to expire (the RMs' own, not their customers')
            expiring = sync_expiry_tasks(session, on=date.today(), settings=settings)
            result.rows["tasks_qualification_expiry"] = expiring.created
            result.rows["customer_slices"] = len(slices)
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
