"""A simulated branch with a year of churn scores, as the nightly batch would have stored them, for the
scorecard's acceptance test (and for ``bench``-style runs over several seeds: ``python -m
tests.scorecards.simulated SEED…``).

The churn model is trained on what was known when the risk window began, then scores every month, so
the scores the scorecard reads are out of sample like a bank's.
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
from scipy.stats import spearmanr  # type: ignore[import-untyped]
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from wealthcrm import schema
from wealthcrm.analytics.extract import extract_tables
from wealthcrm.analytics.features import build_features
from wealthcrm.analytics.labels import in_population
from wealthcrm.analytics.lifecycle import assign_stages
from wealthcrm.analytics.models import CustomerMonth
from wealthcrm.analytics.nightly import HISTORY_COLUMNS, _typed
from wealthcrm.analytics.tiering import tier_history
from wealthcrm.analytics.training import fit_final, training_data
from wealthcrm.config import ScorecardSettings, Settings
from wealthcrm.db import make_engine, session_scope
from wealthcrm.ingest.importer import import_path
from wealthcrm.ingest.writers import upsert
from wealthcrm.scorecards import service
from wealthcrm.scorecards.data import add_months
from wealthcrm.scorecards.service import Scorecards
from wealthcrm.simulate import SimParams, simulate_branch

TODAY = date(2026, 11, 28)
END = date(2026, 10, 1)
FIELD_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#: RMs followed fewer customers than this are too new (or their books too small) to rank
MIN_FOLLOWED = 30


@dataclass(frozen=True)
class SimulatedScorecards:
    cards: Scorecards
    skill: pd.Series  # staff_id → the simulator's hidden skill
    ranked: pd.DataFrame  # RMs with skill and at least MIN_FOLLOWED customers followed

    def spearman(self, metric: str = "risk_adjusted_retention") -> float:
        return float(spearmanr(self.ranked[metric], self.ranked["skill"]).statistic)


def store_scores(engine: Engine, settings: Settings, *, train_until: date) -> int:
    """Tier and stage history of every month and the scores of every population row (the nightly's
    ``customer_months``), from a model trained on data up to ``train_until``."""
    model = fit_final(training_data(engine, until=train_until, settings=settings), settings=settings)
    tables = extract_tables(engine, until=END)
    history = tier_history(tables, settings)
    history = history.merge(assign_stages(history, tables, settings), on=["customer_id", "month"], how="left")
    features = build_features(tables, settings=settings, history=history)
    population = history[in_population(history, tables["customers"], settings).to_numpy()]
    scores = model.predict(features.merge(population[["customer_id", "month"]], on=["customer_id", "month"]))
    keep = ["customer_id", "month", "p_loss", "aum_at_risk", "expected_outflow"]
    fresh = history[HISTORY_COLUMNS].merge(scores[keep], on=["customer_id", "month"], how="left")
    with Session(engine) as session, session.begin():
        # the nightly's own conversion of its frame for the bulk writer
        upsert(session.connection(), CustomerMonth.__table__, _typed(fresh))  # type: ignore[arg-type]
    return len(fresh)


def simulated_scorecards(
    folder: Path, *, seed: int, customers: int = 12_000, customers_per_rm: int = 640, window: int = 12
) -> SimulatedScorecards:
    """Simulate, import, score and compute the scorecards of :data:`END` in ``folder``."""
    out = folder / "branch"
    params = SimParams(customers_per_rm=customers_per_rm, oracle_paths=8)
    month = f"{END:%Y-%m}"
    simulate_branch(
        customers=customers,
        months=24,
        seed=seed,
        out=out,
        fmt="parquet",
        end_month=month,
        today=TODAY,
        params=params,
    )
    settings = Settings(
        data_dir=folder / "data", field_key=FIELD_KEY, scorecards=ScorecardSettings(window_months=window)
    )
    engine = make_engine(f"sqlite:///{folder / 'branch.db'}")
    schema.upgrade(engine)
    import_path(engine, out, settings=settings, today=TODAY)
    store_scores(engine, settings, train_until=add_months(END, -window))
    with session_scope(engine) as session:
        cards = service.compute(session, month=END, settings=settings)
    engine.dispose()
    skill = pd.read_csv(out / "ground_truth_rms.csv", dtype={"staff_id": str}).set_index("staff_id")["skill"]
    rows = pd.DataFrame([{"staff_id": r.unit_id, **r.figures} for r in cards.rms]).set_index("staff_id")
    rows["skill"] = skill.reindex(rows.index)
    rows["loss_rate"] = rows["customer_losses"] / rows["at_risk_customers"].where(
        rows["at_risk_customers"] > 0
    )
    ranked = rows[rows["skill"].notna() & (rows["at_risk_customers"] >= MIN_FOLLOWED)]
    return SimulatedScorecards(cards, skill, ranked)


if __name__ == "__main__":  # pragma: no cover - a manual run over seeds
    options = {"window": 12, "customers": 12_000, "customers_per_rm": 640}
    for arg in sys.argv[1:]:
        if arg.startswith("--"):
            name, value = arg[2:].split("=", 1)
            options[name.replace("-", "_")] = int(value)
            continue
        with tempfile.TemporaryDirectory() as tmp:
            found = simulated_scorecards(Path(tmp), seed=int(arg), **options)
            ranked = found.ranked
            print(
                f"seed {arg} {options}: RMs {len(ranked)} of {len(found.cards.rms)}, followed "
                f"{ranked['at_risk_customers'].mean():.0f} on average; Spearman with skill: "
                f"risk-adjusted retention {found.spearman():.3f}, "
                f"risk-adjusted AUM {found.spearman('risk_adjusted_outflow'):.3f}, "
                f"loss rate {-found.spearman('loss_rate'):.3f}",
                flush=True,
            )
