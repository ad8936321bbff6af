"""`wealthcrm scorecard`: compute and show the monthly RM scorecards; `wealthcrm capability`: record
qualifications, training and competency assessments (as a named user, whose rights apply and who is
written to the audit log) and raise the tasks of expiring qualifications."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import typer
from pydantic import ValidationError
from rich.table import Table
from sqlalchemy.orm import Session

from wealthcrm.cli.common import JsonOption, console, fail, print_json, state
from wealthcrm.cli.tiers_cmd import parse_month
from wealthcrm.db import session_scope
from wealthcrm.errors import DomainError
from wealthcrm.scorecards import capability
from wealthcrm.scorecards import service as scorecards
from wealthcrm.scorecards.metrics import METRICS, Unit
from wealthcrm.scorecards.models import QualificationKind
from wealthcrm.scorecards.schemas import AssessmentCreate, QualificationCreate, TrainingCreate
from wealthcrm.scorecards.service import ScorecardRow, Scorecards
from wealthcrm.users import service as users
from wealthcrm.vocab import Role

#: the figures of the overview table (`scorecard compute` / `show` without --rm)
OVERVIEW = (
    "customers",
    "aum",
    "at_risk_customers",
    "customer_losses",
    "expected_losses",
    "risk_adjusted_retention",
    "contact_coverage",
    "task_completion",
    "sla_compliance",
    "nps",
)


def fmt(key: str, value: float | None) -> str:
    if value is None:
        return "–"
    unit = METRICS[key].unit
    if unit is Unit.number:
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
    if unit is Unit.cny:
        return f"¥{value:,.0f}"
    if unit is Unit.share:
        return f"{value:.1%}"
    return f"{value:,.2f}"


def _overview(cards: Scorecards) -> None:
    table = Table("unit", "name", *OVERVIEW, title=f"RM scorecards {cards.month:%Y-%m}")
    for row in cards.rows:
        unit = row.unit_id if row.level.value == "rm" else f"{row.level.value} {row.unit_id}"
        table.add_row(unit, row.name, *(fmt(k, row.figures.get(k)) for k in OVERVIEW))
    console.print(table)
    console.print(
        f"risk window {cards.window_months} months, churn horizon {cards.horizon_months} months; "
        "`wealthcrm scorecard show --month … --rm ID` lists every figure with its definition",
        highlight=False,
    )


def _one(cards: Scorecards, row: ScorecardRow) -> None:
    branch = next((r for r in cards.rows if r.level.value == "branch"), None)
    team = next((r for r in cards.teams if r.unit_id == row.team_id), None)
    table = Table(
        "figure", row.name, "team", "branch", "definition", title=f"{row.unit_id} {cards.month:%Y-%m}"
    )
    for key, metric in METRICS.items():
        table.add_row(
            metric.en,
            fmt(key, row.figures.get(key)),
            fmt(key, team.figures.get(key)) if team else "",
            fmt(key, branch.figures.get(key)) if branch else "",
            metric.definition_en,
        )
    console.print(table)


def _as_user(session: Session, username: str) -> Any:
    try:
        return users.get(session, username=username)
    except DomainError as exc:
        fail(str(exc))


def _day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"{option}: {text!r} is not a date; use YYYY-MM-DD")


def _record(ctx: typer.Context, action: Callable[[Session], Any], as_json: bool) -> None:
    engine = state(ctx).ready_engine()
    try:
        with session_scope(engine) as session:
            row = action(session)
            out = row.to_dict()
    except DomainError as exc:
        fail(str(exc))
    except ValidationError as exc:
        fail("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()))
    if as_json:
        print_json(out)
    else:
        console.print(
            f"recorded {type(row).__name__.removesuffix('Row').lower()} {out['id']}", highlight=False
        )


def register(app: typer.Typer) -> None:
    card_app = typer.Typer(help="Monthly RM scorecards.", no_args_is_help=True)
    app.add_typer(card_app, name="scorecard")
    cap_app = typer.Typer(
        help="RM qualifications, training and competency assessments.", no_args_is_help=True
    )
    app.add_typer(cap_app, name="capability")

    @card_app.command("compute")
    def compute(
        ctx: typer.Context,
        month: str = typer.Option(..., "--month", help="Month, YYYY-MM."),
        as_json: bool = JsonOption,
    ) -> None:
        """Compute and store the month's scorecards per RM, team and branch (replacing earlier ones).

        Example: wealthcrm scorecard compute --month 2026-10 --json
        """
        st = state(ctx)
        first = parse_month(month)
        try:
            with session_scope(st.ready_engine()) as session:
                cards = scorecards.compute(session, month=first, settings=st.settings)
        except DomainError as exc:
            fail(str(exc))
        if as_json:
            print_json(cards.to_dict())
        else:
            _overview(cards)

    @card_app.command("show")
    def show(
        ctx: typer.Context,
        month: str = typer.Option(..., "--month", help="Month, YYYY-MM."),
        rm: str | None = typer.Option(
            None, "--rm", help="One RM's staff id: every figure with its definition."
        ),
        as_json: bool = JsonOption,
    ) -> None:
        """Show the stored scorecards of a month (all of them, or one RM's against the team and branch).

        Example: wealthcrm scorecard show --month 2026-10 --rm S0009
        """
        first = parse_month(month)
        try:
            with session_scope(state(ctx).ready_engine()) as session:
                cards = scorecards.get_all(session, month=first)
                row = None if rm is None else cards.rm(rm)
        except DomainError as exc:
            fail(str(exc))
        if as_json:
            data = cards.to_dict()
            if row is not None:
                data["rows"] = [r.to_dict() for r in cards.rows if r is row or r.level.value != "rm"]
            data["metrics"] = {k: m.to_dict() for k, m in METRICS.items()}
            print_json(data)
        elif row is None:
            _overview(cards)
        else:
            _one(cards, row)

    @cap_app.command("add-qualification")
    def add_qualification(
        ctx: typer.Context,
        staff_id: str = typer.Argument(..., help="The staff member who holds it."),
        kind: QualificationKind = typer.Option(..., "--kind", help="Kind of qualification."),
        number: str = typer.Option(..., "--number", help="Certificate or licence number."),
        obtained: str = typer.Option(..., "--obtained", help="Date obtained, YYYY-MM-DD."),
        expires: str | None = typer.Option(None, "--expires", help="Expiry date, YYYY-MM-DD (none: never)."),
        note: str | None = typer.Option(None, "--note", help="A remark."),
        as_user: str = typer.Option(..., "--as", help="Login name of the team lead or branch manager."),
        as_json: bool = JsonOption,
    ) -> None:
        """Record a qualification; one expiring within capability.qualification_warning_days raises a task.

        Example: wealthcrm capability add-qualification S0009 --kind afp --number AFP-123 \\
            --obtained 2024-03-01 --expires 2026-12-31 --as lead01
        """
        st = state(ctx)

        def act(s: Session) -> Any:
            data = QualificationCreate(
                staff_id=staff_id,
                kind=kind,
                number=number,
                obtained_on=_day(obtained, "--obtained"),
                expires_on=_day(expires, "--expires"),
                note=note,
            )
            return capability.create_qualification(
                s, user=_as_user(s, as_user), data=data, settings=st.settings
            )

        _record(ctx, act, as_json)

    @cap_app.command("add-training")
    def add_training(
        ctx: typer.Context,
        staff_id: str = typer.Argument(..., help="The staff member trained."),
        course: str = typer.Option(..., "--course", help="Course name."),
        hours: float = typer.Option(..., "--hours", help="Hours of training."),
        completed: str = typer.Option(..., "--completed", help="Date completed, YYYY-MM-DD."),
        score: float | None = typer.Option(None, "--score", help="Assessment score, 0–100."),
        provider: str | None = typer.Option(None, "--provider", help="Who gave the course."),
        as_user: str = typer.Option(..., "--as", help="Login name of the team lead or branch manager."),
        as_json: bool = JsonOption,
    ) -> None:
        """Record a training course an RM completed.

        Example: wealthcrm capability add-training S0009 --course KYC --hours 6 --completed 2026-10-12 \\
            --score 88 --as lead01
        """

        def act(s: Session) -> Any:
            data = TrainingCreate(
                staff_id=staff_id,
                course=course,
                provider=provider,
                hours=hours,
                completed_on=_day(completed, "--completed"),
                score=score,
            )
            return capability.create_training(s, user=_as_user(s, as_user), data=data)

        _record(ctx, act, as_json)

    @cap_app.command("assess")
    def assess(
        ctx: typer.Context,
        staff_id: str = typer.Argument(..., help="The RM assessed."),
        on: str = typer.Option(..., "--on", help="Date of the assessment, YYYY-MM-DD."),
        product_knowledge: int = typer.Option(..., "--product-knowledge", min=1, max=5, help="1–5."),
        compliance: int = typer.Option(..., "--compliance", min=1, max=5, help="1–5."),
        service: int = typer.Option(..., "--service", min=1, max=5, help="1–5."),
        relationship: int = typer.Option(..., "--relationship", min=1, max=5, help="1–5."),
        digital: int = typer.Option(..., "--digital", min=1, max=5, help="1–5."),
        note: str | None = typer.Option(None, "--note", help="A remark."),
        as_user: str = typer.Option(..., "--as", help="Login name of the assessing team lead or manager."),
        as_json: bool = JsonOption,
    ) -> None:
        """Record a competency assessment (1 weak … 5 excellent on each competency).

        Example: wealthcrm capability assess S0009 --on 2026-10-20 --product-knowledge 4 --compliance 2 \\
            --service 4 --relationship 5 --digital 3 --as lead01
        """

        def act(s: Session) -> Any:
            data = AssessmentCreate(
                staff_id=staff_id,
                assessed_on=_day(on, "--on"),
                product_knowledge=product_knowledge,
                compliance=compliance,
                service=service,
                relationship=relationship,
                digital=digital,
                note=note,
            )
            return capability.create_assessment(s, user=_as_user(s, as_user), data=data)

        _record(ctx, act, as_json)

    @cap_app.command("expiring")
    def expiring(
        ctx: typer.Context,
        days: int | None = typer.Option(None, "--days", min=0, help="Window; default the warning setting."),
        tasks: bool = typer.Option(False, "--tasks", help="Also raise (and close) the expiry tasks."),
        as_json: bool = JsonOption,
    ) -> None:
        """Qualifications expiring within the window (or expired), soonest first; --tasks raises their tasks.

        Example: wealthcrm capability expiring --days 90 --tasks --json
        """
        st = state(ctx)
        window = st.settings.capability.qualification_warning_days if days is None else days
        today = date.today()
        with session_scope(st.ready_engine()) as session:
            synced = (
                capability.sync_expiry_tasks(session, on=today, settings=st.settings).to_dict()
                if tasks
                else None
            )
            reader = _Auditor()
            rows = [
                r.to_dict()
                for r in capability.list_qualifications(
                    session, user=reader, expiring_within=window, on=today
                )
            ]
        if as_json:
            print_json({"on": today.isoformat(), "days": window, "qualifications": rows, "tasks": synced})
            return
        table = Table(
            "staff", "name", "kind", "number", "expires", "days left", title=f"expiring within {window} days"
        )
        for r in rows:
            table.add_row(
                r["staff_id"], r["staff_name"], r["kind"], r["number"], r["expires_on"], str(r["days_left"])
            )
        console.print(table)
        if synced is not None:
            console.print(f"tasks: {synced['created']} raised, {synced['closed']} closed", highlight=False)


class _Auditor:
    """The command line reads every record (whoever can run it can read the database)."""

    id = 0
    username = "cli"
    role = Role.auditor
    staff_id = None
