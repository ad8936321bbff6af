"""`wealthcrm tiers`: customers and AUM per tier, the watch list and the migration matrix for a month."""

from __future__ import annotations

import typer

from wealthcrm.cli.common import JsonOption, console


def register(app: typer.Typer) -> None:
    @app.command("tiers")
    def tiers(
        ctx: typer.Context,
        month: str = typer.Option(..., "--month", help="Month, YYYY-MM."),
        as_json: bool = JsonOption,
    ) -> None:
        """Customers and AUM per tier, the watch list, and the migration matrix against the previous month.

        Example: wealthcrm tiers --month 2026-10
        """
        del ctx, month, as_json
        console.print("tiers: being wired")
