"""`wealthcrm audit`: check the hash chain, search and export the audit log."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer
from rich.table import Table

from wealthcrm.audit import service
from wealthcrm.cli.common import JsonOption, console, fail, print_json, state
from wealthcrm.db import session_scope


def _day(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{name}: a date, YYYY-MM-DD")


def register(app: typer.Typer) -> None:
    audit_app = typer.Typer(help="The audit log: verify, search, export.", no_args_is_help=True)
    app.add_typer(audit_app, name="audit")

    @audit_app.command("verify")
    def verify(ctx: typer.Context, as_json: bool = JsonOption) -> None:
        """Walk the audit log's hash chain and report the first broken entry; exit status 1 if broken.

        Detects an edited entry, a deleted one (in the middle or at the end) and a replaced one.

        Example: wealthcrm audit verify --json
        """
        engine = state(ctx).ready_engine()
        with session_scope(engine) as session:
            result = service.verify(session)
        if as_json:
            print_json(result.to_dict())
        elif result.ok:
            console.print(
                f"[green]ok[/]: {result.checked} entries, the chain is intact (head {result.head_seq})"
            )
        else:
            console.print(
                f"[bold red]broken[/] at entry {result.broken_seq} ({result.problem}): {result.message}",
                highlight=False,
            )
        if not result.ok:
            raise typer.Exit(1)

    @audit_app.command("search")
    def search(
        ctx: typer.Context,
        actor: str | None = typer.Option(None, "--actor", help="User name."),
        action: str | None = typer.Option(None, "--action", help="Action, e.g. unmask, or task for task.*."),
        customer_id: str | None = typer.Option(None, "--customer", help="Customer id."),
        since: str | None = typer.Option(None, "--since", help="First day, YYYY-MM-DD (UTC)."),
        until: str | None = typer.Option(None, "--until", help="Last day, YYYY-MM-DD (UTC), inclusive."),
        page: int = typer.Option(1, "--page", min=1, help="Page number, newest entries first."),
        page_size: int = typer.Option(50, "--page-size", min=1, max=10_000, help="Entries per page."),
        as_json: bool = JsonOption,
    ) -> None:
        """Search the audit log, newest entries first.

        Example: wealthcrm audit search --action access_denied --since 2026-11-01 --json
        """
        engine = state(ctx).ready_engine()
        with session_scope(engine) as session:
            found = service.search(
                session,
                actor=actor,
                action=action,
                customer_id=customer_id,
                since=_day(since, "--since"),
                until=_day(until, "--until"),
                page=page,
                page_size=page_size,
            )
        if as_json:
            print_json(
                {
                    "page": page,
                    "page_size": page_size,
                    "total": found.total,
                    "items": [r.to_dict() for r in found.rows],
                }
            )
            return
        table = Table("seq", "at (UTC)", "actor", "action", "customer", "reason", "details")
        for r in found.rows:
            table.add_row(
                str(r.seq),
                r.at.strftime("%Y-%m-%d %H:%M:%S"),
                r.actor,
                r.action,
                r.customer_id or "",
                r.reason or "",
                str(r.details) if r.details else "",
            )
        console.print(table)
        console.print(f"{found.total} entries; page {page}")

    @audit_app.command("export")
    def export(
        ctx: typer.Context,
        out: Path = typer.Option(..., "--out", help="CSV file to write."),
        actor: str | None = typer.Option(None, "--actor", help="User name."),
        action: str | None = typer.Option(None, "--action", help="Action."),
        customer_id: str | None = typer.Option(None, "--customer", help="Customer id."),
        since: str | None = typer.Option(None, "--since", help="First day, YYYY-MM-DD (UTC)."),
        until: str | None = typer.Option(None, "--until", help="Last day, YYYY-MM-DD (UTC), inclusive."),
    ) -> None:
        """Write the (matching) audit log, oldest first, as CSV with every column including the hashes.

        Example: wealthcrm audit export --out audit-2026-11.csv --since 2026-11-01 --until 2026-11-30
        """
        engine = state(ctx).ready_engine()
        where = service.AuditFilter(
            actor, action, customer_id, _day(since, "--since"), _day(until, "--until")
        )
        with session_scope(engine) as session, out.open("w", newline="", encoding="utf-8") as fh:
            count = service.export_csv(session, fh, where=where)
        console.print(f"wrote {count} entries to {out}", soft_wrap=True, highlight=False)
