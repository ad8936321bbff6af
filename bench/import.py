"""Import throughput: monthly-AUM rows per second, validation included, into SQLite and PostgreSQL.

Beside it, in the same run and on the same rows, `pandas.DataFrame.to_sql` into the same empty table
(without reading or validating the file, so the baseline is flattering to pandas).

    python bench/import.py --rows 1000000 --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

Prints one JSON document.
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import os
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from _common import machine, peak_rss_mb
from sqlalchemy import Engine, text

from wealthcrm import schema
from wealthcrm.config import Settings
from wealthcrm.db import make_engine
from wealthcrm.ingest.importer import import_path

MONTHS = 24
CLASSES = ["demand_deposit", "wmp"]
TODAY = date(2026, 11, 28)


def make_files(rows: int, folder: Path, seed: int = 0) -> tuple[Path, Path, pd.DataFrame]:
    """A customers folder and an aum_monthly.csv with `rows` rows (24 months × 2 asset classes)."""
    rng = np.random.default_rng(seed)
    n_customers = math.ceil(rows / (MONTHS * len(CLASSES)))
    ids = np.char.add("C", np.char.zfill(np.arange(n_customers).astype(str), 8))
    base = folder / "base"
    base.mkdir(parents=True)
    pd.DataFrame({"branch_id": ["B001"], "name": ["Bench branch"]}).to_csv(base / "branches.csv", index=False)
    pd.DataFrame(
        {"customer_id": ids, "branch_id": "B001", "name": "客户", "onboarded_on": "2020-01-01"}
    ).to_csv(base / "customers.csv", index=False)
    months = pd.period_range("2024-11", periods=MONTHS, freq="M").strftime("%Y-%m")
    grid = pd.MultiIndex.from_product([ids, months, CLASSES], names=["customer_id", "month", "asset_class"])
    aum = grid.to_frame(index=False).iloc[:rows]
    balance = np.round(rng.lognormal(12, 1.2, len(aum)), 2)
    aum["avg_daily_balance"] = balance
    aum["month_end_balance"] = np.round(balance * rng.uniform(0.9, 1.1, len(aum)), 2)
    monthly = folder / "monthly"
    monthly.mkdir()
    aum.to_csv(monthly / "aum_monthly.csv", index=False)
    typed = aum.assign(month=pd.to_datetime(aum["month"]).dt.date)
    return base, monthly, typed


def reset(engine: Engine) -> None:
    """An empty, migrated database."""
    if engine.dialect.name == "sqlite":
        assert engine.url.database
        engine.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(engine.url.database + suffix).unlink(missing_ok=True)
    else:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    schema.upgrade(engine)


def measure(url: str, base: Path, monthly: Path, typed: pd.DataFrame, settings: Settings) -> dict[str, Any]:
    engine = make_engine(url)
    rows = len(typed)

    # Baseline: pandas.to_sql of the same rows into the same empty table.
    reset(engine)
    import_path(engine, base, settings=settings, today=TODAY)
    started = time.perf_counter()
    with engine.begin() as conn:
        typed.to_sql("aum_monthly", conn, if_exists="append", index=False)
    to_sql_s = time.perf_counter() - started

    # wealthcrm: read + validate + bulk upsert, first load and re-import of identical rows.
    reset(engine)
    import_path(engine, base, settings=settings, today=TODAY)
    started = time.perf_counter()
    first = import_path(engine, monthly, settings=settings, today=TODAY)
    import_s = time.perf_counter() - started
    started = time.perf_counter()
    again = import_path(engine, monthly, settings=settings, today=TODAY)
    reimport_s = time.perf_counter() - started
    assert first.files[0].changed == rows and again.files[0].changed == 0
    engine.dispose()
    return {
        "rows": rows,
        "import_seconds": round(import_s, 3),
        "import_rows_per_s": round(rows / import_s),
        "reimport_unchanged_seconds": round(reimport_s, 3),
        "reimport_rows_per_s": round(rows / reimport_s),
        "to_sql_seconds": round(to_sql_s, 3),
        "to_sql_rows_per_s": round(rows / to_sql_s),
        "speedup_vs_to_sql": round(to_sql_s / import_s, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--postgres",
        default=os.environ.get("WEALTHCRM_TEST_DATABASE_URL"),
        help="PostgreSQL URL (its public schema is dropped!); default $WEALTHCRM_TEST_DATABASE_URL",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        base, monthly, typed = make_files(args.rows, folder)
        settings = Settings(data_dir=folder / "data", field_key=base64.b64encode(bytes(32)).decode())
        results: dict[str, Any] = {
            "sqlite": measure(f"sqlite:///{folder / 'bench.db'}", base, monthly, typed, settings)
        }
        if args.postgres:
            results["postgresql"] = measure(args.postgres, base, monthly, typed, settings)
        csv_mb = (monthly / "aum_monthly.csv").stat().st_size / 2**20
    print(
        json.dumps(
            {
                "benchmark": "import aum_monthly (read + validate + upsert) vs pandas.to_sql",
                "data": {
                    "rows": len(typed),
                    "customers": typed["customer_id"].nunique(),
                    "csv_mb": round(csv_mb, 1),
                },
                "results": results,
                "peak_rss_mb": peak_rss_mb(),
                "machine": machine(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
