"""`wealthcrm report monthly`: the monthly management report as HTML, PDF and XLSX, in zh_CN and en."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import typer

from wealthcrm.cli.common import JsonOption, console, fail, print_json, state
from wealthcrm.db import session_scope
from wealthcrm.errors import DomainError
from wealthcrm.reports import monthly
from wealthcrm.reports.files import write_files
from wealthcrm.reports.i18n import LANGS, Lang
from wealthcrm.reports.months import parse_month

report_app = typer.Typer(help="Reports for the branch.", no_args_is_help=True)


@report_app.command("monthly")
def monthly_report(
    ctx: typer.Context,
    month: str = typer.Option(..., "--month", help="The report's month, YYYY-MM."),
    out: Path = typer.Option(..., "--out", help="Folder to write to: <out>/<lang>/report.html|pdf|xlsx."),
    lang: str = typer.Option("all", "--lang", help="zh_CN, en or all."),
    as_json: bool = JsonOption,
) -> None:
    """The monthly management report: customers and AUM by tier, migration, losses and saves,
    early-warning effectiveness, service, surveys and RM scorecards, as a self-contained HTML page, a
    PDF and an XLSX workbook per language (docs/reports.md defines every figure).

    Example: wealthcrm report monthly --month 2026-10 --out ./reports --lang all
    """
    st = state(ctx)
    if lang not in (*LANGS, "all"):
        fail(f"--lang: {lang!r} is not zh_CN, en or all")
    langs = LANGS if lang == "all" else (cast("Lang", lang),)
    try:
        first_day = parse_month(month)
    except DomainError as exc:
        fail(f"--month: {exc}")
    with session_scope(st.ready_engine()) as session:
        try:
            report = monthly.build(session, month=first_day, settings=st.settings)
        except DomainError as exc:
            fail(f"{exc}: import that month's data (and run `wealthcrm nightly`) first")
    try:
        written = write_files(report, out, langs)
    except OSError as exc:
        fail(f"--out: cannot write to {out} ({exc})")
    if as_json:
        print_json({"month": month, "files": [str(p) for p in written]})
        return
    for path in written:
        console.print(f"wrote {path}")


def register(app: typer.Typer) -> None:
    app.add_typer(report_app, name="report")
