"""The nightly batch on a simulated branch: seconds per stage, peak RSS, and features in DuckDB against
a straightforward pandas implementation of the same features, measured in the same run.

    .venv/bin/python bench/nightly.py --customers 50000 --months 24
    .venv/bin/python bench/nightly.py --customers 1000000 --months 24   # long; needs the disk and RAM

Simulates into a temporary folder, imports into SQLite (or --database URL; its tables are replaced),
trains a churn model, runs ``run_nightly`` for the last month, then times ``build_features`` and the
pandas reference on the same extract. Prints one JSON document.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, peak_rss_mb
from nightly_features import compare, pandas_features

from wealthcrm import schema
from wealthcrm.analytics import registry
from wealthcrm.analytics.extract import extract_tables
from wealthcrm.analytics.features import build_features
from wealthcrm.analytics.nightly import run_nightly
from wealthcrm.analytics.tiering import tier_history
from wealthcrm.analytics.training import fit_final, training_data
from wealthcrm.config import Settings
from wealthcrm.db import make_engine, session_scope
from wealthcrm.ingest.importer import import_path
from wealthcrm.simulate import simulate_branch

TODAY = date(2026, 11, 28)
END = date(2026, 10, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    seconds: dict[str, float] = {}

    def timed(name: str, started: float) -> None:
        seconds[name] = round(time.perf_counter() - started, 2)

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        settings = Settings(data_dir=folder / "data", field_key=base64.b64encode(bytes(32)).decode())
        t = time.perf_counter()
        simulate_branch(customers=args.customers, months=args.months, seed=args.seed, out=folder / "branch",
                        fmt="parquet", end_month=f"{END:%Y-%m}", today=TODAY, workers=2)  # fmt: skip
        timed("simulate", t)
        engine = make_engine(f"sqlite:///{folder / 'bench.db'}")
        schema.upgrade(engine)
        t = time.perf_counter()
        imported = import_path(engine, folder / "branch", settings=settings, today=TODAY)
        timed("import", t)
        t = time.perf_counter()
        model = fit_final(training_data(engine, until=END, settings=settings), settings=settings)
        with session_scope(engine) as session:
            registry.save(session, model=model, activate=True)
        timed("train", t)
        result = run_nightly(engine, month=END, settings=settings)

        tables = extract_tables(engine, until=END)
        history = tier_history(tables, settings)
        t = time.perf_counter()
        duck = build_features(tables, settings=settings, history=history)
        duck_s = time.perf_counter() - t
        t = time.perf_counter()
        pand = pandas_features(tables, history, settings)
        pandas_s = time.perf_counter() - t
        agreement = compare(duck, pand)

    report: dict[str, Any] = {
        "benchmark": "wealthcrm nightly on a simulated branch",
        "data": {
            "customers": args.customers,
            "months": args.months,
            "rows_imported": imported.rows,
            "feature_rows": len(duck),
        },
        "setup_seconds": seconds,
        "nightly_seconds": {k: round(v, 2) for k, v in result.stages.items()},
        "nightly_total_seconds": round(sum(result.stages.values()), 2),
        "nightly_rows": result.rows,
        "features_all_months": {
            "duckdb_seconds": round(duck_s, 2),
            "pandas_seconds": round(pandas_s, 2),
            "speedup_vs_pandas": round(pandas_s / duck_s, 2),
            "agreement": agreement,
        },
        "peak_rss_mb": peak_rss_mb(),
        "machine": machine(),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
