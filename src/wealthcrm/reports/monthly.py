"""The monthly management report (经营月报) of the branch for one month, as a :class:`Report`.

Sections, each figure defined on the page (docs/reports.md lists them all):

1. **Customers and AUM by tier** and 2. **tier migration** — :func:`wealthcrm.tiers.service.tier_report`,
   the numbers of ``wealthcrm tiers`` and the Branch overview;
3. **Losses and saves** — customer and asset loss of the tier report; saves are retention tasks closed
   as *retained* in the month (:func:`wealthcrm.tasks.rules.is_save`) whose customer was not lost that
   month; the 6-month trend is read from the nightly results (``customer_months``);
4. **Early-warning effectiveness** — :mod:`.warning`;
5. **Service** and 6. **Surveys** — :mod:`.servicing`;
7. **RM scorecards** — :mod:`.scorecard`.

Timestamps (task completion, service requests) fall in the month by the branch's local time
(``sla.time_zone``). Nothing here writes.
"""

from __future__ import annotations

from datetime import UTC, date
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from wealthcrm.analytics.models import CustomerMonth
from wealthcrm.config import Settings
from wealthcrm.errors import NotFound
from wealthcrm.reports import scorecard, servicing, warning
from wealthcrm.reports.document import Chart, Column, Figure, Label, Num, Report, Section, Series, Table, Text
from wealthcrm.reports.months import mno, month_of, utc_bounds
from wealthcrm.tasks.models import Task
from wealthcrm.tasks.rules import is_save
from wealthcrm.tiers.service import GONE, NEW, NoDataForMonth, TierReport, tier_report
from wealthcrm.vocab import TIER_ORDER, TaskKind, TaskOutcome, TaskStatus

TREND_MONTHS = 6
TIER_LABELS = {
    "mass": "Mass",
    "gold": "Gold",
    "sunflower": "Sunflower",
    "diamond": "Diamond",
    "private": "Private banking",
    NEW: "New customers",
    GONE: "Closed",
}
RANK = {t.value: t.rank for t in TIER_ORDER}


# --- 1 and 2: tiers and migration ------------------------------------------------------------------------


def tiers_section(report: TierReport) -> Section:
    total_c, total_a = report.total.customers or 1, report.total.aum or 1.0
    rows = tuple(
        (TIER_LABELS[code], b.customers, b.customers / total_c, b.aum, b.aum / total_a)
        for code, b in reversed(report.tiers.items())
    )
    rows += (("Total", report.total.customers, 1.0, report.total.aum, 1.0),)
    table = Table(
        "tiers",
        "Customers and AUM by tier",
        (
            Column("tier", "Tier", "label"),
            Column("customers", "Customers"),
            Column("customer_share", "Share of customers", "pct"),
            Column("aum", "AUM", "cny"),
            Column("aum_share", "Share of AUM", "pct"),
        ),
        rows,
    )
    codes = [t.value for t in TIER_ORDER]
    chart = Chart(
        "tiers_aum",
        "AUM by tier",
        "bar",
        tuple(TIER_LABELS[c] for c in codes),
        (Series("AUM", tuple(report.tiers[c].aum for c in codes)),),
        unit="cny",
    )
    counts = Chart(
        "tiers_customers",
        "Customers by tier",
        "bar",
        tuple(TIER_LABELS[c] for c in codes),
        (Series("Customers", tuple(report.tiers[c].customers for c in codes)),),
    )
    return Section(
        "tiers",
        "Customers and AUM by tier",
        figures=(
            Figure("customers", "Customers", report.total.customers),
            Figure("aum", "AUM", report.total.aum, "cny"),
            Figure("watch", "On watch", report.watch.customers),
            Figure("watch_aum", "AUM on watch", report.watch.aum, "cny"),
        ),
        tables=(table,),
        charts=(counts, chart),
        definitions=(
            ("AUM", Text("Month-average daily balance of all financial assets at the branch (CNY).")),
            ("Tier", Text("The effective tier in the month, after the downgrade grace period.")),
            (
                "On watch",
                Text("Below the tier's threshold but not yet downgraded (the grace period runs)."),
            ),
        ),
    )


def migration_counts(report: TierReport) -> tuple[int, int]:
    """(upgrades, downgrades): customers whose effective tier rose or fell against last month."""
    up = down = 0
    for row, cells in report.migration.items():
        for col, n in cells.items():
            if row in RANK and col in RANK:
                up += n if RANK[col] > RANK[row] else 0
                down += n if RANK[col] < RANK[row] else 0
    return up, down


def migration_section(report: TierReport) -> Section:
    cols = list(next(iter(report.migration.values())))
    table = Table(
        "migration",
        "Tier migration",
        (Column("from", "Last month \\ this month", "label"), *(Column(c, TIER_LABELS[c]) for c in cols)),
        tuple((TIER_LABELS[row], *(cells[c] for c in cols)) for row, cells in report.migration.items()),
    )
    up, down = migration_counts(report)
    previous = report.previous_month
    notes = () if previous is not None else (Text("The first month of data: every customer is new."),)
    return Section(
        "migration",
        "Tier migration",
        figures=(
            Figure("upgrades", "Upgrades", up),
            Figure("downgrades", "Downgrades", down),
            Figure("new", "New customers", sum(report.migration[NEW].values())),
            Figure("closed", "Closed", sum(r[GONE] for r in report.migration.values())),
        ),
        tables=(table,),
        definitions=(
            (
                "Tier migration",
                Text(
                    "Customers by last month's effective tier (rows) and this month's (columns); "
                    "new customers were not counted last month, closed ones are not counted this month."
                ),
            ),
            ("Upgrades", Text("Customers whose effective tier is higher than last month.")),
            ("Downgrades", Text("Customers whose effective tier is lower than last month.")),
        ),
        notes=notes,
    )


# --- 3: losses and saves ---------------------------------------------------------------------------------


def saves_by_month(
    session: Session, *, first: date, last: date, time_zone: str
) -> dict[date, tuple[int, int]]:
    """Month → (retention tasks closed in it, saves): distinct customers whose retention task was closed
    as retained in the month and who were not lost that month."""
    lo, _ = utc_bounds(first, time_zone)
    _, hi = utc_bounds(last, time_zone)
    rows = session.execute(
        select(Task.customer_id, Task.completed_at, Task.outcome).where(
            Task.kind == TaskKind.retention,
            Task.status == TaskStatus.done,
            Task.completed_at >= lo,
            Task.completed_at < hi,
        )
    ).all()
    zone = ZoneInfo(time_zone)
    worked: dict[date, int] = {}
    saved: dict[date, set[str]] = {}
    for cid, at, outcome in rows:
        if at is None:
            continue
        local = at.replace(tzinfo=UTC).astimezone(zone)
        month = date(local.year, local.month, 1)
        worked[month] = worked.get(month, 0) + 1
        if cid is not None and is_save(TaskKind.retention, None if outcome is None else TaskOutcome(outcome)):
            saved.setdefault(month, set()).add(cid)
    lost = {
        (cid, m)
        for cid, m in session.execute(
            select(CustomerMonth.customer_id, CustomerMonth.month).where(
                CustomerMonth.month >= first,
                CustomerMonth.month <= last,
                CustomerMonth.customer_loss.is_(True),
            )
        )
    }
    out = {}
    for n in range(mno(first), mno(last) + 1):
        m = month_of(n)
        out[m] = (worked.get(m, 0), len({c for c in saved.get(m, set()) if (c, m) not in lost}))
    return out


def loss_trend(session: Session, *, first: date, last: date) -> dict[date, tuple[int, int, float]]:
    """Month → (customer losses, asset-loss events, CNY lost) from the nightly results."""
    rows = session.execute(
        select(
            CustomerMonth.month,
            func.sum(case((CustomerMonth.customer_loss.is_(True), 1), else_=0)),
            func.count(CustomerMonth.asset_loss_amount),
            func.coalesce(func.sum(CustomerMonth.asset_loss_amount), 0.0),
        )
        .where(and_(CustomerMonth.month >= first, CustomerMonth.month <= last))
        .group_by(CustomerMonth.month)
    ).all()
    return {m: (int(a or 0), int(b or 0), round(float(c or 0.0), 2)) for m, a, b, c in rows}


def losses_section(session: Session, report: TierReport, *, month: date, settings: Settings) -> Section:
    first = month_of(mno(month) - TREND_MONTHS + 1)
    saves = saves_by_month(session, first=first, last=month, time_zone=settings.sla.time_zone)
    trend = loss_trend(session, first=first, last=month)
    months = [month_of(n) for n in range(mno(first), mno(month) + 1)]
    rows = tuple((m.strftime("%Y-%m"), *trend.get(m, (0, 0, 0.0)), *saves[m]) for m in months)
    table = Table(
        "trend",
        "Losses and saves, last 6 months",
        (
            Column("month", "Month", "text"),
            Column("customer_loss", "Customer losses"),
            Column("asset_loss_events", "Asset-loss events"),
            Column("asset_loss_amount", "Asset loss (CNY)", "cny"),
            Column("retention_worked", "Retention tasks closed"),
            Column("saves", "Saves"),
        ),
        rows,
    )
    chart = Chart(
        "trend",
        "Customer losses and saves",
        "line",
        tuple(m.strftime("%Y-%m") for m in months),
        (
            Series("Customer losses", tuple(r[1] for r in rows)),
            Series("Saves", tuple(r[5] for r in rows)),
        ),
        categories_kind="text",
    )
    worked, saved = saves[month]
    floor = Label(TIER_LABELS[settings.churn.customer_loss_min_tier.value])
    return Section(
        "losses",
        "Losses and saves",
        figures=(
            Figure("customer_loss", "Customer losses", report.customer_loss.customers),
            Figure("customer_loss_aum", "AUM of the customers lost", report.customer_loss.aum, "cny"),
            Figure("asset_loss_events", "Asset-loss events", report.asset_loss.events),
            Figure("asset_loss_amount", "Asset loss (CNY)", report.asset_loss.amount_lost, "cny"),
            Figure("retention_worked", "Retention tasks closed", worked),
            Figure("saves", "Saves", saved),
        ),
        tables=(table,),
        charts=(chart,),
        definitions=(
            (
                "Customer losses",
                Text(
                    "Customers at or above {tier} who were downgraded below it or closed the relationship "
                    "this month; their AUM is this month's.",
                    {"tier": floor},
                ),
            ),
            (
                "Asset-loss events",
                Text(
                    "Total AUM fell by at least {drop} against {months} months earlier; the CNY lost is "
                    "the fall.",
                    {
                        "drop": Num(settings.churn.asset_loss_drop, "pct"),
                        "months": settings.churn.asset_loss_lookback_months,
                    },
                ),
            ),
            ("Retention tasks closed", Text("Retention tasks marked done this month, whatever the outcome.")),
            (
                "Saves",
                Text(
                    "Customers whose retention task was closed as retained this month and who were not "
                    "lost this month."
                ),
            ),
        ),
        notes=(Text("The 6-month trend is read from the nightly results (customer_months)."),),
    )


# --- the whole report ------------------------------------------------------------------------------------


def build(session: Session, *, month: date, settings: Settings, today: date | None = None) -> Report:
    """The monthly management report of ``month`` (any day in it); :class:`NotFound` without AUM data."""
    month = month.replace(day=1)
    try:
        tiers = tier_report(session, month=month, settings=settings)
    except NoDataForMonth as exc:
        raise NotFound(str(exc)) from exc
    sections = (
        tiers_section(tiers),
        migration_section(tiers),
        losses_section(session, tiers, month=month, settings=settings),
        warning.section(session, month=month, settings=settings),
        servicing.service_section(session, month=month, settings=settings),
        servicing.survey_section(session, month=month),
        scorecard.section(session, month=month, settings=settings),
    )
    return Report("monthly", "Monthly management report", month, today or date.today(), sections)
