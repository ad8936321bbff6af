"""`wealthcrm nightly` and `wealthcrm scores export`: the nightly batch and its results as a file."""

from __future__ import annotations

import csv
from pathlib import Path

import typer
from rich.table import Table
from sqlalchemy import select

from wealthcrm.analytics.models import CustomerMonth
from wealthcrm.analytics.nightly import run_nightly
from wealthcrm.cli.common import JsonOption, console, err_console, fail, print_json, state
from wealthcrm.cli.tiers_cmd import parse_month
from wealthcrm.db import session_scope
from wealthcrm.errors import DomainError

EXPORT_COLUMNS = [
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


def register(app: typer.Typer) -> None:
    @app.command("nightly")
    def nightly(
        ctx: typer.Context,
        month: str | None = typer.Option(
            None, "--month", help="Month, YYYY-MM; default: the latest with AUM data."
        ),
        as_json: bool = JsonOption,
    ) -> None:
        """Tiers, lifecycle stages, features, churn scores with reasons and rule alerts for a month,
        written in one transaction; running a month again changes nothing.

        Example: wealthcrm nightly --month 2026-10 --json
        """
        st = state(ctx)
        engine = st.ready_engine()
        first_day = parse_month(month) if month else None
        try:
            with err_console.status("nightly") as status:
                result = run_nightly(
                    engine, month=first_day, settings=st.settings,
                    progress=lambda stage: None if as_json else status.update(f"nightly: {stage}"),
                )  # fmt: skip
        except DomainError as exc:
            fail(str(exc))
        if as_json:
            print_json(result.to_dict())
            return
        table = Table("stage", "seconds", title=f"nightly {result.month:%Y-%m}")
        for stage, seconds in result.stages.items():
            table.add_row(stage, f"{seconds:.2f}")
        console.print(table)
        console.print(", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in result.rows.items()))
        if result.model_version_id is None:
            console.print("[yellow]no active churn model: no scores. Train one: wealthcrm model train[/]")

    scores_app = typer.Typer(help="Churn scores.", no_args_is_help=True)
    app.add_typer(scores_app, name="scores")

    @scores_app.command("export")
    def export(
        ctx: typer.Context,
        month: str = typer.Option(..., "--month", help="Month, YYYY-MM."),
        out: Path = typer.Option(..., "--out", help="CSV file to write."),
        lang: str = typer.Option("en", "--lang", help="Language of the reasons: en or zh."),
    ) -> None:
        """Write the month's scores: every sunflower-or-above customer with P(loss), AUM, AUM at risk,
        expected outflow, stage, tier and the reasons, highest AUM at risk first.

        Example: wealthcrm scores export --month 2026-10 --out scores.csv
        """
        if lang not in ("en", "zh"):
            fail("--lang must be en or zh")
        st = state(ctx)
        first_day = parse_month(month)
        with session_scope(st.ready_engine()) as session:
            rows = session.scalars(
                select(CustomerMonth)
                .where(CustomerMonth.month == first_day, CustomerMonth.p_loss.is_not(None))
                .order_by(CustomerMonth.aum_at_risk.desc(), CustomerMonth.customer_id)
            ).all()
            if not rows:
                fail(f"no scores for {month}: run `wealthcrm nightly --month {month}` with an active model")
            with out.open("w", newline="", encoding="utf-8") as fh:
                writer = csv.writer(fh)
                writer.writerow(EXPORT_COLUMNS)
                for r in rows:
                    reasons = "; ".join(item[lang] for item in (r.reasons or []))
                    writer.writerow(
                        [
                            r.customer_id,
                            r.month.strftime("%Y-%m"),
                            f"{r.p_loss:.6f}",
                            f"{r.aum:.2f}",
                            f"{r.aum_at_risk or 0:.2f}",
                            f"{r.expected_outflow or 0:.2f}",
                            r.stage,
                            r.tier,
                            reasons,
                        ]
                    )
        console.print(f"wrote {len(rows):,} customers to {out}")
