"""Issue 4's acceptance run: the default churn model against the simulator's oracle, over several seeds.

    .venv/bin/python bench/backtest_seeds.py                          # seeds 1, 2, 3; 20,000 × 24
    .venv/bin/python bench/backtest_seeds.py --seeds 4 --customers 6000 --workdir /tmp/bt

For each seed, one after the other, with the command line a bank would use:

    wealthcrm simulate --customers N --months M --seed S --end-month 2026-10 --format parquet --out DIR
    wealthcrm db upgrade                        # WEALTHCRM_DATABASE_URL=sqlite:///DIR.db, fresh file
    wealthcrm import DIR --json
    wealthcrm model backtest --ground-truth DIR/ground_truth.csv --json

and checks the thresholds: model ROC AUC ≥ 0.95 × the oracle's on the same customer-months, lift in
the top 10% ≥ 3, expected calibration error ≤ 0.03. Prints one JSON document; exits with status 1 when
a seed misses a threshold. Files go to a temporary folder removed afterwards, unless ``--workdir``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine

THRESHOLDS = {"auc_ratio_min": 0.95, "lift_top10_min": 3.0, "ece_max": 0.03}
END_MONTH = "2026-10"


def _cli() -> list[str]:
    beside = Path(sys.executable).parent / "wealthcrm"
    found = str(beside) if beside.exists() else shutil.which("wealthcrm")
    if found is None:
        raise SystemExit("the wealthcrm command is not installed (pip install -e .)")
    return [found]


def _run(args: list[str], env: dict[str, str]) -> tuple[Any, float]:
    """Run ``wealthcrm ARGS``; its JSON output (None when it prints none) and the seconds taken."""
    started = time.perf_counter()
    proc = subprocess.run(_cli() + args, env=env, capture_output=True, text=True)
    seconds = round(time.perf_counter() - started, 1)
    if proc.returncode != 0:
        raise SystemExit(
            f"wealthcrm {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}"
        )
    out = proc.stdout.strip()
    return (json.loads(out) if out.startswith(("{", "[")) else None), seconds


def check(metrics: dict[str, float]) -> dict[str, bool]:
    """Which thresholds of issue 4 a backtest with an oracle comparison meets."""
    return {
        "auc_ratio": metrics["ratio"] >= THRESHOLDS["auc_ratio_min"],
        "lift_top10": metrics["lift_top10"] >= THRESHOLDS["lift_top10_min"],
        "ece": metrics["ece"] <= THRESHOLDS["ece_max"],
    }


def run_seed(seed: int, customers: int, months: int, work: Path, workers: int) -> dict[str, Any]:
    branch = work / f"seed{seed}"
    db = work / f"seed{seed}.db"
    for stale in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        stale.unlink(missing_ok=True)
    shutil.rmtree(branch, ignore_errors=True)
    env = {
        **os.environ,
        "WEALTHCRM_DATABASE_URL": f"sqlite:///{db}",
        "WEALTHCRM_DATA_DIR": str(work / f"data{seed}"),
    }
    simulate = ["simulate", "--customers", str(customers), "--months", str(months), "--seed", str(seed)]
    simulate += ["--end-month", END_MONTH, "--format", "parquet", "--workers", str(workers)]
    sim, t_sim = _run([*simulate, "--out", str(branch), "--json"], env)
    _, t_db = _run(["db", "upgrade"], env)
    imported, t_import = _run(["import", str(branch), "--json"], env)
    truth = branch / "ground_truth.csv"
    report, t_backtest = _run(["model", "backtest", "--ground-truth", str(truth), "--json"], env)
    oracle = report["oracle"]
    metrics = {
        "rows": int(report["rows"]),
        "base_rate": round(report["base_rate"], 4),
        "roc_auc": round(report["roc_auc"], 4),
        "oracle_auc": oracle["oracle_auc"],
        "ratio": oracle["ratio"],
        "lift_top10": round(report["lift_top10"], 3),
        "ece": round(report["ece"], 4),
        "brier": round(report["brier"], 4),
    }
    return {
        "seed": seed,
        "test_months": report["test_months"],
        "cutoff": report["cutoff"],
        **metrics,
        "passes": check(metrics),
        "branch": {
            "annual_loss_rate": sim["annual_loss_rate"],
            "oracle_auc_all_months": sim["oracle_auc"],
            "rows_imported": imported["rows"],
        },
        "seconds": {"simulate": t_sim, "db_upgrade": t_db, "import": t_import, "backtest": t_backtest},
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", default="1,2,3", help="comma-separated seeds, run one after another")
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--workers", type=int, default=1, help="simulator processes (output is the same)")
    parser.add_argument("--workdir", type=Path, help="keep the branches and databases here")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="wealthcrm-backtest-") as tmp:
        work = args.workdir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        results = [run_seed(seed, args.customers, args.months, work, args.workers) for seed in seeds]
    ok = all(all(r["passes"].values()) for r in results)
    report = {
        "benchmark": "backtest_seeds",
        "command": "wealthcrm model backtest --ground-truth <branch>/ground_truth.csv --json",
        "customers": args.customers,
        "months": args.months,
        "end_month": END_MONTH,
        "seeds": seeds,
        "thresholds": THRESHOLDS,
        "all_pass": ok,
        "results": results,
        "seconds": round(time.perf_counter() - started, 1),
        "machine": machine(),
    }
    print(json.dumps(report, indent=2, ensure_ascii=False))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
