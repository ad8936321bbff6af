"""`wealthcrm simulate`: write a synthetic branch as data-contract files, with its ground truth."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Literal

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from wealthcrm.cli.common import JsonOption, console, err_console, fail, print_json
from wealthcrm.simulate import SimulationSummary, simulate_branch


def run_simulation(
    *,
    customers: int,
    months: int,
    seed: int,
    out: Path,
    fmt: Literal["csv", "parquet"],
    end_month: str | None,
    workers: int,
    quiet: bool = False,
) -> SimulationSummary:
    """Simulate with a progress bar; shared by `simulate` and `demo`."""
    with Progress(
        TextColumn("simulating branch"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} blocks"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=quiet,
    ) as bar:
        task = bar.add_task("simulate", total=None)
        try:
            return simulate_branch(
                customers=customers,
                months=months,
                seed=seed,
                out=out,
                fmt=fmt,
                end_month=end_month,
                workers=workers,
                progress=lambda _stage, done, total: bar.update(task, completed=done, total=total),
            )
        except ValueError as exc:
            fail(str(exc))


def register(app: typer.Typer) -> None:
    @app.command("simulate")
    def simulate(
        out: Path = typer.Option(..., "--out", help="Folder to write the files into (created if missing)."),
        customers: int = typer.Option(3000, "--customers", min=1, help="Number of customers."),
        months: int = typer.Option(24, "--months", min=4, help="Months of history."),
        seed: int = typer.Option(1, "--seed", help="Random seed: the same seed gives the same files."),
        fmt: str = typer.Option("csv", "--format", help="csv or parquet."),
        end_month: str | None = typer.Option(
            None, "--end-month", help="Last simulated month, YYYY-MM; default: last complete month."
        ),
        workers: int = typer.Option(
            os.cpu_count() or 1, "--workers", min=1, help="Processes; output is identical for any number."
        ),
        as_json: bool = JsonOption,
    ) -> None:
        """Write a simulated branch as data-contract files, plus ground_truth.csv (the true probability
        of customer loss for each sunflower+ customer-month) and ground_truth_rms.csv (hidden RM skill).
        Ground truth is for judging models; never import it.

        Example: wealthcrm simulate --customers 20000 --months 24 --seed 7 --out ./branch --format parquet
        """
        if fmt not in ("csv", "parquet"):
            fail("--format must be csv or parquet")
        summary = run_simulation(
            customers=customers,
            months=months,
            seed=seed,
            out=out,
            fmt=fmt,  # type: ignore[arg-type]
            end_month=end_month,
            workers=workers,
            quiet=as_json,
        )
        if as_json:
            print_json(dataclasses.asdict(summary))
            return
        table = Table("file", "rows", title=f"simulated branch in {out} ({summary.seconds:.1f} s)")
        for name, rows in summary.rows.items():
            table.add_row(name, f"{rows:,}")
        console.print(table)
        console.print(
            f"months to {summary.end_month}; annual customer-loss rate (sunflower+) "
            f"{summary.annual_loss_rate:.1%}; oracle ROC AUC {summary.oracle_auc:.3f}; "
            f"tier mix {', '.join(f'{k} {v:.0%}' for k, v in summary.tier_mix.items())}"
        )
