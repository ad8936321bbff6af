"""The nightly batch on a simulated branch: seconds per stage, peak RSS, the extract against reading
rows through the driver, and features in DuckDB against a straightforward pandas implementation of the
same features, measured in the same run.

    .venv/bin/python bench/nightly.py --customers 50000 --months 24
    .venv/bin/python bench/nightly.py --customers 1000000 --workdir /tmp/b1m --import-parts 16  # long
    .venv/bin/python bench/nightly.py --workdir /tmp/b50k --database postgresql+psycopg://…/bench

Simulates into ``--workdir`` (a temporary folder by default) and imports into SQLite there (or into
``--database``); a work folder whose database already holds the branch is reused as it is. Then each
measurement runs in a fresh process of its own, so each peak RSS is its own:

- ``train``: a churn model (on every customer up to ``--train-customers``, else on a random sample of
  that many: the model only has to exist for the nightly to score with it);
- ``nightly``: ``run_nightly`` for the last month, twice — the first run also backfills the tier and
  stage history of every earlier month, the second is a night like any other;
- ``extract``: ``extract_tables`` column-wise (ADBC / COPY) and through the driver, same database;
- ``features``: ``build_features`` and the pandas reference on all months, on every customer up to
  ``--features-customers``, else on a random sample of that many (the pandas version holds every
  customer-month × position in memory); each ``--repeat`` times, alternating, the best time counts.

``--stages`` picks some of them (``--stages extract`` on a database that holds a branch already).
Prints one JSON document.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, peak_rss_mb

TODAY = date(2026, 11, 28)
END = date(2026, 10, 1)


def _settings(folder: Path) -> Any:
    from wealthcrm.config import Settings

    return Settings(data_dir=folder / "data", field_key=base64.b64encode(bytes(32)).decode())


def _sample(tables: dict[str, pa.Table], customers: int, seed: int) -> dict[str, pa.Table]:
    """The tables of a random sample of ``customers`` customers (all of them when there are fewer)."""
    ids = tables["customers"].column("customer_id")
    if len(ids) <= customers:
        return tables
    rng = np.random.default_rng(seed)
    keep = pa.array(np.sort(rng.choice(len(ids), size=customers, replace=False)))
    chosen = ids.take(keep)
    return {
        name: t.filter(pc.is_in(t["customer_id"], value_set=chosen)) if "customer_id" in t.column_names else t
        for name, t in tables.items()
    }


def stage_train(url: str, folder: Path, customers: int, seed: int) -> dict[str, Any]:
    from wealthcrm.analytics import registry
    from wealthcrm.analytics.extract import extract_tables
    from wealthcrm.analytics.features import build_features
    from wealthcrm.analytics.labels import training_frame
    from wealthcrm.analytics.tiering import tier_history
    from wealthcrm.analytics.training import fit_final
    from wealthcrm.db import make_engine, session_scope

    settings = _settings(folder)
    engine = make_engine(url)
    started = time.perf_counter()
    tables = _sample(extract_tables(engine, until=END), customers, seed)
    history = tier_history(tables, settings)
    features = build_features(tables, settings=settings, history=history)
    frame = training_frame(
        features, history, tables["customers"], settings, horizon=settings.churn.horizon_months
    )
    model = fit_final(frame, settings=settings)
    with session_scope(engine) as session:
        registry.save(session, model=model, activate=True)
    return {
        "seconds": round(time.perf_counter() - started, 2),
        "customers": tables["customers"].num_rows,
        "training_rows": len(frame),
    }


def stage_nightly(url: str, folder: Path) -> dict[str, Any]:
    from wealthcrm.analytics.nightly import run_nightly
    from wealthcrm.db import make_engine

    result = run_nightly(make_engine(url), month=END, settings=_settings(folder))
    return result.to_dict()


def stage_extract(url: str) -> dict[str, Any]:
    from wealthcrm.analytics import extract
    from wealthcrm.db import make_engine

    engine = make_engine(url)
    started = time.perf_counter()
    columnar = extract.extract_tables(engine, until=END)
    columnar_s = time.perf_counter() - started
    rows = {name: t.num_rows for name, t in columnar.items()}
    del columnar
    # the same tables through the DB-API driver, rows fetched in chunks and turned into Arrow arrays
    extract.ADBC_MIN_BYTES = 2**62
    extract._postgres_arrow = extract._driver_arrow  # type: ignore[assignment]
    started = time.perf_counter()
    by_driver = extract.extract_tables(engine, until=END)
    driver_s = time.perf_counter() - started
    assert {name: t.num_rows for name, t in by_driver.items()} == rows
    return {
        "backend": engine.dialect.name,
        "columnar_seconds": round(columnar_s, 2),
        "driver_seconds": round(driver_s, 2),
        "speedup": round(driver_s / columnar_s, 2),
        "rows": sum(rows.values()),
    }


def stage_features(url: str, folder: Path, customers: int, seed: int, repeat: int) -> dict[str, Any]:
    from nightly_features import compare, pandas_features

    from wealthcrm.analytics.extract import extract_tables
    from wealthcrm.analytics.features import build_features
    from wealthcrm.analytics.tiering import tier_history
    from wealthcrm.db import make_engine

    settings = _settings(folder)
    tables = _sample(extract_tables(make_engine(url), until=END), customers, seed)
    history = tier_history(tables, settings)
    # Alternating, `repeat` times each; the best time of each counts (other load on the machine only
    # ever adds time, and it hurts the 2-thread DuckDB run more than the 1-thread pandas run).
    duck_times, pandas_times = [], []
    for _ in range(repeat):
        t = time.perf_counter()
        duck = build_features(tables, settings=settings, history=history)
        duck_times.append(time.perf_counter() - t)
        rss_duck = peak_rss_mb()
        t = time.perf_counter()
        pand = pandas_features(tables, history, settings)
        pandas_times.append(time.perf_counter() - t)
    duck_s, pandas_s = min(duck_times), min(pandas_times)
    agreement = compare(duck, pand)
    return {
        "customers": tables["customers"].num_rows,
        "feature_rows": len(duck),
        "duckdb_seconds": round(duck_s, 2),
        "pandas_seconds": round(pandas_s, 2),
        "speedup_vs_pandas": round(pandas_s / duck_s, 2),
        "duckdb_runs": [round(x, 2) for x in duck_times],
        "pandas_runs": [round(x, 2) for x in pandas_times],
        "max_relative_difference": max(agreement.values()),
        "peak_rss_mb_after_duckdb": rss_duck,
    }


def split_branch(branch: Path, out: Path, parts: int) -> list[Path]:
    """The branch's files cut into ``parts`` folders by ranges of customer ids, each imported on its
    own: the importer validates a whole import in memory (all or nothing), which at a million
    customers needs more than this machine has, so a big branch is loaded like a bank's monthly
    feeds, a slice at a time. Files without customers (branches, staff, products) go in the first."""
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    if parts <= 1:
        return [branch]
    ids = pq.read_table(branch / "customers.parquet", columns=["customer_id"])["customer_id"]
    ids = ids.take(pc.sort_indices(ids))
    bounds = [ids[int(i * len(ids) / parts)].as_py() for i in range(parts)] + [None]
    folders = [out / f"part{i:02d}" for i in range(parts)]
    for f in folders:
        f.mkdir(parents=True, exist_ok=True)
    for file in sorted(branch.glob("*.parquet")):
        data = ds.dataset(file)
        if "customer_id" not in data.schema.names:
            pq.write_table(data.to_table(), folders[0] / file.name)
            continue
        for i, folder in enumerate(folders):
            cond = pc.field("customer_id") >= bounds[i]
            if bounds[i + 1] is not None:
                cond = cond & (pc.field("customer_id") < bounds[i + 1])
            pq.write_table(data.to_table(filter=cond), folder / file.name)
    return folders


def _child(stage: str, args: argparse.Namespace, url: str, folder: Path) -> dict[str, Any]:
    """Run one stage in a fresh Python process; its result with that process's peak RSS."""
    command = [
        sys.executable, __file__, "--stage", stage, "--url", url, "--workdir", str(folder),
        "--seed", str(args.seed), "--train-customers", str(args.train_customers),
        "--features-customers", str(args.features_customers), "--repeat", str(args.repeat),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"stage {stage} failed:\n{done.stderr[-4000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _has_branch(url: str) -> bool:
    from sqlalchemy import inspect, text

    from wealthcrm.db import make_engine

    engine = make_engine(url)
    try:
        if "aum_monthly" not in inspect(engine).get_table_names():
            return False
        with engine.connect() as conn:
            return conn.execute(text("SELECT 1 FROM aum_monthly LIMIT 1")).first() is not None
    finally:
        engine.dispose()


def run(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    from wealthcrm import schema
    from wealthcrm.db import make_engine
    from wealthcrm.ingest.importer import import_path
    from wealthcrm.simulate import simulate_branch

    url = args.database or f"sqlite:///{folder / 'bench.db'}"
    setup: dict[str, Any] = {}
    if not _has_branch(url):
        if not (folder / "branch").exists():
            t = time.perf_counter()
            simulate_branch(
                customers=args.customers, months=args.months, seed=args.seed, out=folder / "branch",
                fmt="parquet", end_month=f"{END:%Y-%m}", today=TODAY, workers=2,
            )  # fmt: skip
            setup["simulate_seconds"] = round(time.perf_counter() - t, 2)
        engine = make_engine(url)
        schema.upgrade(engine)
        t = time.perf_counter()
        parts = split_branch(folder / "branch", folder / "parts", args.import_parts)
        setup["rows_imported"] = sum(
            import_path(engine, part, settings=_settings(folder), today=TODAY).rows for part in parts
        )
        setup["import_parts"] = len(parts)
        setup["import_seconds"] = round(time.perf_counter() - t, 2)
        engine.dispose()
    else:
        setup["reused"] = url.split("@")[-1]
    schema.upgrade(make_engine(url))
    stages = set(args.stages.split(","))
    data = {
        "customers": args.customers,
        "months": args.months,
        "seed": args.seed,
        "database": url.split(":")[0],
    }
    report: dict[str, Any] = {
        "benchmark": "wealthcrm nightly on a simulated branch",
        "data": data,
        "setup": setup,
    }
    if "train" in stages:
        setup["train"] = _child("train", args, url, folder)
    if "nightly" in stages:
        first = _child("nightly", args, url, folder)
        again = _child("nightly", args, url, folder)
        report["nightly"] = {
            "seconds": again["seconds"],
            "total_seconds": again["total_seconds"],
            "peak_rss_mb": again["peak_rss_mb"],
            "children_peak_rss_mb": again["children_peak_rss_mb"],
            "rows": again["rows"],
        }
        report["nightly_first_run_with_backfill"] = {
            "seconds": first["seconds"],
            "total_seconds": first["total_seconds"],
            "peak_rss_mb": first["peak_rss_mb"],
            "rows": first["rows"],
        }
    if "extract" in stages:
        report["extract"] = _child("extract", args, url, folder)
    if "features" in stages:
        report["features_all_months"] = _child("features", args, url, folder)
    report["machine"] = machine()
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", type=Path, help="keep the simulated branch and database here")
    parser.add_argument("--database", help="a SQLAlchemy URL instead of SQLite in the work folder")
    parser.add_argument(
        "--import-parts", type=int, default=1, help="import the branch in this many slices of customers"
    )
    parser.add_argument("--train-customers", type=int, default=100_000)
    parser.add_argument("--features-customers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each feature builder; the best counts")
    parser.add_argument("--stages", default="train,nightly,extract,features", help="which measurements")
    parser.add_argument(
        "--stage", choices=["train", "nightly", "extract", "features"], help=argparse.SUPPRESS
    )
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage:
        folder = Path(args.workdir)
        if args.stage == "train":
            out = stage_train(args.url, folder, args.train_customers, args.seed)
        elif args.stage == "nightly":
            out = stage_nightly(args.url, folder)
        elif args.stage == "extract":
            out = stage_extract(args.url)
        else:
            out = stage_features(args.url, folder, args.features_customers, args.seed, args.repeat)
        out["peak_rss_mb"] = peak_rss_mb()
        out["children_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)
        print(json.dumps(out))
        return
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
        report = run(args, args.workdir)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            report = run(args, Path(tmp))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
