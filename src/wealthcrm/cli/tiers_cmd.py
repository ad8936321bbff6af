"""`wealthcrm tiers`: customers and AUM per tier, the watch list and the migration matrix for a month."""

from __future__ import annotations

from datetime import date

import typer
from rich.table import Table

from wealthcrm.cli.common import JsonOption, console, fail, print_json, state
from wealthcrm.db import session_scope
from wealthcrm.tiers.service import NEW, NoDataForMonth, TierReport, tier_report


def parse_month(text: str) -> date:
    try:
        year, month = text.split("-")
        return date(int(year), int(month), 1)
    except ValueError:
        fail(f"--month: {text!r} is not a month; use YYYY-MM, e.g. 2026-10")


def _print(report: TierReport) -> None:
    month = report.month.strftime("%Y-%m")
    table = Table("tier", "customers", "AUM (CNY)", "share of AUM", title=f"Tiers in {month}")
    total = report.total.aum or 1.0
    for name, bucket in report.tiers.items():
        table.add_row(name, f"{bucket.customers:,}", f"{bucket.aum:,.0f}", f"{bucket.aum / total:.1%}")
    table.add_row("[b]total[/]", f"{report.total.customers:,}", f"{report.total.aum:,.0f}", "100.0%")
    console.print(table)
    console.print(
        f"on watch (below their tier, not yet downgraded): {report.watch.customers:,} customers, "
        f"AUM {report.watch.aum:,.0f}"
    )
    console.print(
        f"customer loss this month: {report.customer_loss.customers:,}; "
        f"asset loss events: {report.asset_loss.events:,}, {report.asset_loss.amount_lost:,.0f} CNY"
    )
    if report.previous_month is None:
        console.print("no previous month in the data: no migration matrix")
        return
    prev = report.previous_month.strftime("%Y-%m")
    cols = list(next(iter(report.migration.values())).keys())
    matrix = Table(f"{prev} \\ {month}", *cols, title="Tier migration")
    for row, cells in report.migration.items():
        label = "new customers" if row == NEW else row
        matrix.add_row(label, *(f"{cells[c]:,}" if cells[c] else "·" for c in cols))
    console.print(matrix)


def register(app: typer.Typer) -> None:
    @app.command("tiers")
    def tiers(
        ctx: typer.Context,
        month: str = typer.Option(..., "--month", help="Month, YYYY-MM."),
        as_json: bool = JsonOption,
    ) -> None:
        """Customers and AUM per tier, the watch list, and the migration matrix against the previous month.

        Example: wealthcrm tiers --month 2026-10 --json
        """
        st = state(ctx)
        first_day = parse_month(month)
        with session_scope(st.ready_engine()) as session:
            try:
                report = tier_report(session, month=first_day, settings=st.settings)
            except NoDataForMonth:
                fail(f"no AUM data for {month}: import aum_monthly for that month first")
        if as_json:
            print_json(report.to_dict())
        else:
            _print(report)
