"""Benchmark the branch simulator: rows written, seconds, rows/s and peak memory per size, as JSON.

    .venv/bin/python bench/simulate.py                       # 20,000 and 1,000,000 customers × 24 months
    .venv/bin/python bench/simulate.py --sizes 20000 --workers 2

Each size runs in a fresh process, so its peak RSS (``resource.getrusage``, the process plus its
worker processes) is its own. Output files go to a temporary folder that is removed afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import Any


def run_one(customers: int, months: int, fmt: str, workers: int, seed: int) -> dict[str, Any]:
    from wealthcrm.simulate import simulate_branch

    with tempfile.TemporaryDirectory(prefix="wealthcrm-bench-") as tmp:
        summary = simulate_branch(
            customers=customers,
            months=months,
            seed=seed,
            out=Path(tmp),
            fmt=fmt,  # type: ignore[arg-type]
            end_month="2026-10",
            today=date(2026, 11, 28),
            workers=workers,
        )
        size = sum(p.stat().st_size for p in Path(tmp).iterdir())
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "customers": customers,
        "months": months,
        "format": fmt,
        "workers": workers,
        "seed": seed,
        "rows": summary.rows,
        "total_rows": summary.total_rows,
        "bytes_written": size,
        "seconds": summary.seconds,
        "rows_per_second": round(summary.total_rows / summary.seconds) if summary.seconds else None,
        # ru_maxrss is in KiB on Linux; the largest single process (main or one worker)
        "peak_rss_mib": round(max(self_kb, children_kb) / 1024, 1),
        "annual_loss_rate": summary.annual_loss_rate,
        "oracle_auc": summary.oracle_auc,
        "tier_mix": summary.tier_mix,
        "top10_share": summary.top10_share,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="20000,1000000", help="comma-separated customer counts")
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--format", default="parquet", choices=("csv", "parquet"))
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: run one size here
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(run_one(args.one, args.months, args.format, args.workers, args.seed)))
        return
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        cmd = [sys.executable, __file__, "--one", str(size), "--months", str(args.months)]
        cmd += ["--format", args.format, "--workers", str(args.workers), "--seed", str(args.seed)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    report = {
        "benchmark": "simulate_branch",
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "results": results,
    }
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
