"""The RM scorecards section of the monthly report: the month's stored scorecards
(:func:`wealthcrm.scorecards.service.get_all`, computed by ``wealthcrm scorecard compute``), one table
per group of figures with a row per RM, per team and for the branch, and every figure's definition
from :data:`wealthcrm.scorecards.metrics.METRICS` (their words are the scorecards' own, in both
languages: the report's translator reads ``metric:<key>`` and ``metric-def:<key>`` from there)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from wealthcrm.config import Settings
from wealthcrm.errors import NotFound
from wealthcrm.reports.document import Chart, Column, Figure, Kind, Section, Series, Table, Text
from wealthcrm.scorecards import service as scorecards
from wealthcrm.scorecards.metrics import METRICS, Group, Unit
from wealthcrm.scorecards.models import ScorecardLevel

#: metric unit → how the report shows it
KINDS: dict[Unit, Kind] = {
    Unit.number: "int",
    Unit.cny: "cny",
    Unit.share: "pct",
    Unit.points: "num1",
    Unit.mean: "num2",
}
GROUP_TITLES = {
    Group.book: "Scorecards: the book",
    Group.retention: "Scorecards: retention against the model",
    Group.activity: "Scorecards: activity",
    Group.compliance: "Scorecards: compliance",
    Group.service: "Scorecards: service",
    Group.surveys: "Scorecards: surveys",
}
LEVEL_LABELS = {ScorecardLevel.rm: "RM", ScorecardLevel.team: "Team", ScorecardLevel.branch: "Branch"}
#: the branch's headline figures
HEADLINE = (
    "risk_adjusted_retention",
    "customer_losses",
    "expected_losses",
    "saves",
    "contact_coverage",
    "sla_compliance",
    "nps",
)


def label(key: str) -> str:
    """The msgid of a metric's name (the report's translator resolves it from METRICS)."""
    return f"metric:{key}"


def definition(key: str) -> str:
    return f"metric-def:{key}"


def section(session: Session, *, month: date, settings: Settings) -> Section:
    try:
        found = scorecards.get_all(session, month=month)
    except NotFound:
        return Section(
            "scorecards",
            "RM scorecards",
            notes=(
                Text(
                    "No scorecards are stored for {month}: run `wealthcrm scorecard compute --month "
                    "{month}` first.",
                    {"month": month.strftime("%Y-%m")},
                ),
            ),
        )
    teams = {r.unit_id: r.name for r in found.teams}
    rms = sorted(found.rms, key=lambda r: (r.team_id or "", r.unit_id))
    ordered = [*rms, *found.teams, *(r for r in found.rows if r.level is ScorecardLevel.branch)]
    tables = []
    for group, title in GROUP_TITLES.items():
        keys = [k for k, m in METRICS.items() if m.group is group]
        tables.append(
            Table(
                f"scorecards_{group.value}",
                title,
                (
                    Column("name", "Name", "text"),
                    Column("level", "Level", "label"),
                    Column("team", "Team", "text"),
                    *(Column(k, label(k), KINDS[METRICS[k].unit]) for k in keys),
                ),
                tuple(
                    (
                        r.name,
                        LEVEL_LABELS[r.level],
                        teams.get(r.team_id or "", r.team_id or ""),
                        *(r.figures.get(k) for k in keys),
                    )
                    for r in ordered
                ),
            )
        )
    branch = next((r for r in found.rows if r.level is ScorecardLevel.branch), None)
    figures = tuple(
        Figure(k, label(k), None if branch is None else branch.figures.get(k), KINDS[METRICS[k].unit])
        for k in HEADLINE
    )
    adjusted = tuple(r.figures.get("risk_adjusted_retention") for r in rms)
    chart = Chart(
        "risk_adjusted_retention",
        label("risk_adjusted_retention"),
        "bar",
        tuple(r.name for r in rms),
        (Series(label("risk_adjusted_retention"), adjusted),),
        unit="num1",
        categories_kind="text",
    )
    return Section(
        "scorecards",
        "RM scorecards",
        figures=figures,
        tables=tuple(tables),
        charts=(chart,) if rms else (),
        definitions=tuple((label(k), Text(definition(k))) for k in METRICS),
        notes=(
            Text(
                "Figures over a window use the {window} months up to this month; the model's horizon is "
                "{horizon} months.",
                {"window": found.window_months, "horizon": found.horizon_months},
            ),
        ),
    )
