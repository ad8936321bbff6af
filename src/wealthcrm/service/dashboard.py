"""The service dashboards' figures (branch manager, team lead): SLA compliance by request type, tier and
team; the backlog and its ageing; complaint trends and root causes; entitlement usage and cost.

Definitions (docs/service.md "Dashboards"):

- **Period**: whole months of local time (``sla.time_zone``), ``start`` to ``end`` inclusive. SLA
  compliance, complaints and root causes count the requests *opened* in the period; entitlement usage
  the redemptions made in it (cancelled ones left out). The backlog is the open requests at ``now``.
- **SLA compliance** of requests with a resolution due time: *met* — resolved by the due time;
  *breached* — resolved after it, or not resolved and the clock (stopped while waiting for the
  customer) already past it; *pending* — neither yet. Compliance = met ÷ (met + breached).
  The tier is the one whose SLA applied (``sla_tier``); the team is the customer's RM's team now.
- **Ageing**: business time since opening in working days (``sla.business_start``–``business_end``
  on the working calendar), bucketed under 1, 1–3, 3–5, 5 and more; *overdue* as for breached.
- **Complaint trends**: per month of opening, complaints opened, resolved so far, resolved within
  the SLA, still open, and the customers' average rating.

Scope: the requests and redemptions of customers in the user's scope (``customers.scope``): the whole
branch for the branch manager, auditors and analysts; the team's customers for a team lead. Other roles
are :class:`Forbidden`. Nothing here writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import ColumnElement, Integer, and_, case, func, literal, or_, select, true
from sqlalchemy.orm import Session

from wealthcrm.config import Settings
from wealthcrm.customers.models import Customer
from wealthcrm.customers.scope import WHOLE_BRANCH, visible_customers
from wealthcrm.entitlements.models import EntitlementRedemption
from wealthcrm.errors import Forbidden, Invalid
from wealthcrm.service.calendar import WorkingCalendar
from wealthcrm.service.models import ServiceRequest
from wealthcrm.service.rules import OPEN_STATES
from wealthcrm.staff.models import Staff, Team
from wealthcrm.vocab import TIER_ORDER, RequestStatus, RequestType, Role

DASHBOARD_ROLES = frozenset({Role.branch_manager, Role.team_lead, Role.auditor, Role.analyst})
MAX_MONTHS = 36
#: ageing buckets: (code, lower bound in working days, upper bound or None)
AGEING_BUCKETS: tuple[tuple[str, float, float | None], ...] = (
    ("under_1", 0.0, 1.0),
    ("1_3", 1.0, 3.0),
    ("3_5", 3.0, 5.0),
    ("5_plus", 5.0, None),
)
NO_TEAM = ""
NOT_RECORDED = ""


@dataclass(frozen=True, slots=True)
class Period:
    """Whole local months ``start`` … ``end`` (first days), inclusive."""

    start: date
    end: date

    @property
    def months(self) -> list[date]:
        out = []
        day = self.start
        while day <= self.end:
            out.append(day)
            day = _next_month(day)
        return out

    def bounds(self, calendar: WorkingCalendar) -> tuple[datetime, datetime]:
        """The period as naive-UTC instants [from, to)."""
        return (
            calendar.to_utc(datetime.combine(self.start, time.min)),
            calendar.to_utc(datetime.combine(_next_month(self.end), time.min)),
        )


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def make_period(start: date, end: date) -> Period:
    """The months from ``start``'s to ``end``'s; :class:`Invalid` when reversed or longer than 3 years."""
    first, last = start.replace(day=1), end.replace(day=1)
    if last < first:
        raise Invalid("the period ends before it starts")
    if (last.year - first.year) * 12 + last.month - first.month >= MAX_MONTHS:
        raise Invalid(f"a period is at most {MAX_MONTHS} months")
    return Period(first, last)


def default_period(today: date, months: int = 6) -> Period:
    """The last ``months`` months up to ``today``'s."""
    end = today.replace(day=1)
    index = end.year * 12 + end.month - 1 - (months - 1)
    return Period(date(index // 12, index % 12 + 1, 1), end)


@dataclass(frozen=True, slots=True)
class Compliance:
    key: str
    requests: int
    met: int
    breached: int
    pending: int
    rated: int
    avg_rating: float | None

    @property
    def compliance(self) -> float | None:
        decided = self.met + self.breached
        return None if decided == 0 else self.met / decided

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"compliance": self.compliance}


@dataclass(frozen=True, slots=True)
class AgeingRow:
    request_type: str
    open: int
    overdue: int
    buckets: dict[str, int]


@dataclass(frozen=True, slots=True)
class Backlog:
    open: int
    overdue: int
    by_status: dict[str, int]
    ageing: list[AgeingRow]
    oldest_days: float | None  # working days


@dataclass(frozen=True, slots=True)
class ComplaintMonth:
    month: str
    opened: int
    resolved: int
    within_sla: int
    still_open: int
    rated: int
    avg_rating: float | None


@dataclass(frozen=True, slots=True)
class RootCause:
    root_cause: str  # "" when not recorded
    complaints: int
    resolved: int
    within_sla: int


@dataclass(frozen=True, slots=True)
class BenefitUsage:
    benefit: str
    uses: int
    customers: int
    cost: float
    by_tier: dict[str, int] = field(default_factory=dict)  # uses per tier


@dataclass(frozen=True, slots=True)
class ServiceDashboard:
    start: date
    end: date
    now: datetime
    by_type: list[Compliance]
    by_tier: list[Compliance]
    by_team: list[Compliance]
    total: Compliance
    team_names: dict[str, str]
    backlog: Backlog
    complaints: list[ComplaintMonth]
    root_causes: list[RootCause]
    benefits: list[BenefitUsage]

    @property
    def benefit_cost(self) -> float:
        return round(sum(b.cost for b in self.benefits), 2)

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": f"{self.start:%Y-%m}",
            "end": f"{self.end:%Y-%m}",
            "now": self.now.isoformat() + "Z",
            "sla": {
                "total": self.total.to_dict(),
                "by_type": [c.to_dict() for c in self.by_type],
                "by_tier": [c.to_dict() for c in self.by_tier],
                "by_team": [c.to_dict() | {"name": self.team_names.get(c.key, "")} for c in self.by_team],
            },
            "backlog": asdict(self.backlog),
            "complaints": [asdict(m) for m in self.complaints],
            "root_causes": [asdict(r) for r in self.root_causes],
            "benefits": [asdict(b) for b in self.benefits],
            "benefit_cost": self.benefit_cost,
        }


# --- building blocks ---------------------------------------------------------------------------------


def check_viewer(user: Any) -> None:
    if Role(user.role) not in DASHBOARD_ROLES:
        raise Forbidden("the service dashboards are for branch managers, team leads, auditors and analysts")


def _in_scope(user: Any, column: Any) -> ColumnElement[bool]:
    if Role(user.role) in WHOLE_BRANCH:
        return true()
    result: ColumnElement[bool] = column.in_(visible_customers(user))
    return result


def _sum(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _clock_end(now: datetime) -> Any:
    """When the SLA clock reads: the resolution, else where it stopped (waiting), else ``now``."""
    return func.coalesce(
        ServiceRequest.resolved_at,
        ServiceRequest.clock_stopped_at,
        literal(now, ServiceRequest.opened_at.type),
    )


def _met() -> ColumnElement[bool]:
    r = ServiceRequest
    return and_(r.resolved_at.is_not(None), r.resolved_at <= r.due_at)


def _breached(now: datetime) -> ColumnElement[bool]:
    return _clock_end(now) > ServiceRequest.due_at  # type: ignore[no-any-return]


def _compliance_rows(
    session: Session, key: Any, conditions: Sequence[ColumnElement[bool]], now: datetime, *, join_team: bool
) -> list[Compliance]:
    r = ServiceRequest
    stmt = select(
        key,
        func.count(),
        _sum(_met()),
        _sum(_breached(now)),
        func.count(r.rating),
        func.coalesce(func.sum(r.rating), 0),
    ).where(*conditions)
    if join_team:
        stmt = stmt.join(Customer, Customer.customer_id == r.customer_id).outerjoin(
            Staff, Staff.staff_id == Customer.rm_id
        )
    out = []
    for k, n, met, breached, rated, rating_sum in session.execute(stmt.group_by(key)).all():
        n, met, breached, rated = int(n), int(met), int(breached), int(rated)
        out.append(
            Compliance(
                "" if k is None else str(getattr(k, "value", k)),
                n,
                met,
                breached,
                n - met - breached,
                rated,
                None if rated == 0 else round(float(rating_sum) / rated, 2),
            )
        )
    return out


def _order(rows: list[Compliance], order: Sequence[str]) -> list[Compliance]:
    rank = {k: i for i, k in enumerate(order)}
    return sorted(rows, key=lambda c: (rank.get(c.key, len(rank)), c.key))


def _total(rows: list[Compliance]) -> Compliance:
    rated = sum(c.rated for c in rows)
    weighted = sum((c.avg_rating or 0) * c.rated for c in rows)
    return Compliance(
        "all",
        sum(c.requests for c in rows),
        sum(c.met for c in rows),
        sum(c.breached for c in rows),
        sum(c.pending for c in rows),
        rated,
        None if rated == 0 else round(weighted / rated, 2),
    )


# --- the sections ------------------------------------------------------------------------------------


def sla_compliance(
    session: Session, *, user: Any, period: Period, now: datetime, calendar: WorkingCalendar
) -> tuple[list[Compliance], list[Compliance], list[Compliance], dict[str, str]]:
    """SLA compliance of the requests opened in ``period`` by type, by tier and by team (and the teams'
    names)."""
    r = ServiceRequest
    lo, hi = period.bounds(calendar)
    where = [r.opened_at >= lo, r.opened_at < hi, r.due_at.is_not(None), _in_scope(user, r.customer_id)]
    by_type = _order(
        _compliance_rows(session, r.request_type, where, now, join_team=False), [t.value for t in RequestType]
    )
    by_tier = _order(
        _compliance_rows(session, r.sla_tier, where, now, join_team=False), [t.value for t in TIER_ORDER]
    )
    by_team = sorted(
        _compliance_rows(session, Staff.team_id, where, now, join_team=True),
        key=lambda c: (c.key == "", c.key),
    )
    names = {str(k): str(v) for k, v in session.execute(select(Team.team_id, Team.name)).all()}
    return by_type, by_tier, by_team, names


def working_day_hours(calendar: WorkingCalendar) -> float:
    """Business hours in one working day (8 for 09:00–17:00)."""
    span = datetime.combine(date.min, calendar.end) - datetime.combine(date.min, calendar.start)
    return span.total_seconds() / 3600


def _bucket(days: float) -> str:
    for code, low, high in AGEING_BUCKETS:
        if days >= low and (high is None or days < high):
            return code
    return AGEING_BUCKETS[-1][0]


def backlog(session: Session, *, user: Any, now: datetime, calendar: WorkingCalendar) -> Backlog:
    """The open requests at ``now``: by state, and by type with their ageing and how many are overdue."""
    r = ServiceRequest
    rows = session.execute(
        select(r.request_type, r.status, r.opened_at, r.due_at, r.clock_stopped_at).where(
            r.status.in_([s.value for s in OPEN_STATES]), _in_scope(user, r.customer_id)
        )
    ).all()
    day_hours = working_day_hours(calendar)
    by_status = {s.value: 0 for s in RequestStatus if s in OPEN_STATES}
    types: dict[str, dict[str, Any]] = {}
    overdue_total = 0
    oldest: float | None = None
    for request_type, status, opened_at, due_at, stopped_at in rows:
        kind = str(getattr(request_type, "value", request_type))
        by_status[str(getattr(status, "value", status))] += 1
        age = calendar.business_hours_between(opened_at, now) / day_hours
        oldest = age if oldest is None else max(oldest, age)
        late = due_at is not None and (stopped_at or now) > due_at
        overdue_total += int(late)
        row = types.setdefault(kind, {"open": 0, "overdue": 0, "buckets": {b[0]: 0 for b in AGEING_BUCKETS}})
        row["open"] += 1
        row["overdue"] += int(late)
        row["buckets"][_bucket(age)] += 1
    order = [t.value for t in RequestType]
    ageing = [AgeingRow(t, v["open"], v["overdue"], v["buckets"]) for t, v in types.items()]
    ageing.sort(key=lambda a: order.index(a.request_type) if a.request_type in order else len(order))
    return Backlog(len(rows), overdue_total, by_status, ageing, None if oldest is None else round(oldest, 2))


def _month_index(period: Period, calendar: WorkingCalendar) -> Any:
    """A SQL expression: the index of the period's month in which a request was opened (portable CASE)."""
    whens = []
    for i, month in enumerate(period.months[1:]):
        whens.append((ServiceRequest.opened_at < calendar.to_utc(datetime.combine(month, time.min)), i))
    if not whens:
        return literal(0, Integer)
    return case(*whens, else_=len(period.months) - 1)


def complaint_trends(
    session: Session, *, user: Any, period: Period, now: datetime, calendar: WorkingCalendar
) -> tuple[list[ComplaintMonth], list[RootCause]]:
    """Complaints opened in each month of ``period`` and by root cause."""
    r = ServiceRequest
    lo, hi = period.bounds(calendar)
    where = [
        r.request_type == RequestType.complaint,
        r.opened_at >= lo,
        r.opened_at < hi,
        _in_scope(user, r.customer_id),
    ]
    resolved = r.resolved_at.is_not(None)
    within = and_(resolved, or_(r.due_at.is_(None), r.resolved_at <= r.due_at))
    still_open = r.status.in_([s.value for s in OPEN_STATES])
    index = _month_index(period, calendar).label("m")
    counts = {
        int(m): (int(n), int(res), int(ok), int(op), int(rated), rsum)
        for m, n, res, ok, op, rated, rsum in session.execute(
            select(
                index,
                func.count(),
                _sum(resolved),
                _sum(within),
                _sum(still_open),
                func.count(r.rating),
                func.coalesce(func.sum(r.rating), 0),
            )
            .where(*where)
            .group_by(index)
        ).all()
    }
    months = []
    for i, month in enumerate(period.months):
        n, res, ok, op, rated, rsum = counts.get(i, (0, 0, 0, 0, 0, 0))
        avg = None if rated == 0 else round(float(rsum) / rated, 2)
        months.append(ComplaintMonth(f"{month:%Y-%m}", n, res, ok, op, rated, avg))
    causes = [
        RootCause("" if cause is None else str(cause), int(n), int(res), int(ok))
        for cause, n, res, ok in session.execute(
            select(r.root_cause, func.count(), _sum(resolved), _sum(within))
            .where(*where)
            .group_by(r.root_cause)
        ).all()
    ]
    causes.sort(key=lambda c: (-c.complaints, c.root_cause == NOT_RECORDED, c.root_cause))
    return months, causes


def benefit_usage(
    session: Session, *, user: Any, period: Period, calendar: WorkingCalendar
) -> list[BenefitUsage]:
    """Uses, customers and cost to the branch per benefit (and uses per tier) of the redemptions made in
    ``period``, cancelled ones left out; by cost, largest first."""
    e = EntitlementRedemption
    lo, hi = period.bounds(calendar)
    where = [
        e.redeemed_at >= lo,
        e.redeemed_at < hi,
        e.cancelled_at.is_(None),
        _in_scope(user, e.customer_id),
    ]
    totals = session.execute(
        select(e.benefit, func.sum(e.quantity), func.count(func.distinct(e.customer_id)), func.sum(e.cost))
        .where(*where)
        .group_by(e.benefit)
    ).all()
    tiers: dict[str, dict[str, int]] = {}
    for benefit, tier, uses in session.execute(
        select(e.benefit, e.tier, func.sum(e.quantity)).where(*where).group_by(e.benefit, e.tier)
    ).all():
        tiers.setdefault(str(benefit), {})[str(getattr(tier, "value", tier))] = int(uses or 0)
    order = [t.value for t in TIER_ORDER]
    out = [
        BenefitUsage(
            str(b),
            int(uses or 0),
            int(customers or 0),
            round(float(cost or 0), 2),
            dict(
                sorted(
                    tiers.get(str(b), {}).items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 9
                )
            ),
        )
        for b, uses, customers, cost in totals
    ]
    return sorted(out, key=lambda u: (-u.cost, -u.uses, u.benefit))


def dashboard(
    session: Session, *, user: Any, period: Period, now: datetime, settings: Settings
) -> ServiceDashboard:
    """Every section of the service dashboards for ``user``'s scope (see the module docstring)."""
    check_viewer(user)
    calendar = WorkingCalendar.from_settings(settings.sla)
    by_type, by_tier, by_team, names = sla_compliance(
        session, user=user, period=period, now=now, calendar=calendar
    )
    months, causes = complaint_trends(session, user=user, period=period, now=now, calendar=calendar)
    return ServiceDashboard(
        start=period.start,
        end=period.end,
        now=now,
        by_type=by_type,
        by_tier=by_tier,
        by_team=by_team,
        total=_total(by_type),
        team_names={k: v for k, v in names.items() if any(c.key == k for c in by_team)},
        backlog=backlog(session, user=user, now=now, calendar=calendar),
        complaints=months,
        root_causes=causes,
        benefits=benefit_usage(session, user=user, period=period, calendar=calendar),
    )
