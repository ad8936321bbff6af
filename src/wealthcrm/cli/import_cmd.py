"""`wealthcrm import`: load data-contract files, all or nothing."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from wealthcrm.cli.common import JsonOption, console, err_console, print_json, state
from wealthcrm.ingest.importer import import_path, validate_path
from wealthcrm.ingest.problems import ImportRejected, Problem

EXIT_REJECTED = 2


def _report_problems(problems: list[Problem], as_json: bool) -> None:
    if as_json:
        print_json({"ok": False, "problems": [p.to_dict() for p in problems]})
        return
    table = Table(
        "file", "row", "column", "problem", title=f"{len(problems)} problem(s); nothing was imported"
    )
    for p in problems:
        table.add_row(p.file, "" if p.row is None else str(p.row), p.column or "", p.message)
    err_console.print(table)
    by_kind = Counter((p.file, p.column or "") for p in problems)
    if len(problems) > 20:
        err_console.print(
            "most frequent: " + "; ".join(f"{f} {c or '(row)'}: {n}" for (f, c), n in by_kind.most_common(5))
        )


def register(app: typer.Typer) -> None:
    @app.command("import")
    def import_(
        ctx: typer.Context,
        path: Path = typer.Argument(..., help="A contract file or a folder of them (CSV or Parquet)."),
        check: bool = typer.Option(False, "--check", help="Validate only; write nothing."),
        as_json: bool = JsonOption,
    ) -> None:
        """Validate every file, then write them all in one transaction — or, on any problem, nothing.

        On rejection it exits with status 2 and lists every problem (file, row, column, message).
        Files are recognised by name (customers.csv, aum_monthly_2026-10.parquet): see docs/data-contract.md.

        Example: wealthcrm import ./extract/ --json
        """
        st = state(ctx)
        engine = st.ready_engine()
        if check:
            problems = validate_path(engine, path, settings=st.settings)
            if problems:
                _report_problems(problems, as_json)
                raise typer.Exit(EXIT_REJECTED)
            if as_json:
                print_json({"ok": True, "problems": []})
            else:
                console.print("no problems found")
            return
        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=err_console,
            transient=True,
            disable=as_json,
        ) as bar:
            task = bar.add_task("reading", total=None)
            try:
                result = import_path(
                    engine,
                    path,
                    settings=st.settings,
                    actor="cli",
                    progress=lambda stage, label: bar.update(task, description=f"{stage} {label}"),
                )
            except ImportRejected as exc:
                bar.stop()
                _report_problems(exc.problems, as_json)
                raise typer.Exit(EXIT_REJECTED) from None
        if as_json:
            print_json(result.to_dict())
            return
        table = Table(
            "file", "table", "encoding", "rows", "new or changed", title=f"imported in {result.seconds:.1f} s"
        )
        for f in result.files:
            table.add_row(f.file, f.table, f.encoding or "parquet", f"{f.rows:,}", f"{f.changed:,}")
        console.print(table)
        for warning in result.warnings:
            err_console.print(f"[yellow]warning:[/] {warning}")
