"""Staff as the Team page reads them: the teams a user may manage and each RM's coverage of the book.

:func:`coverage` answers, per RM of a team, in the latest month the nightly batch scored:

- ``customers``: active customers assigned to the RM; ``sunflower_plus`` those in sunflower or above;
- ``aum`` and ``aum_at_risk``: their month-average AUM and P(loss) × AUM (CNY);
- ``open_high_alerts``: open high-severity alerts on them;
- ``contacted_30d``: customers with an interaction (by anyone) in the 30 days up to ``on``;
- ``cadence_customers`` / ``cadence_due``: customers the contact cadence covers (sunflower, diamond,
  private; gold prospects with at least ``gold_prospect_min_aum`` and more AUM than the month before)
  and those whose last contact is as old as the tier's cadence or older (or who were never contacted);
- ``open_tasks`` / ``overdue_tasks``: open or snoozed tasks on the RM's list, and those due before ``on``.

Nothing here commits.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session, aliased

from wealthcrm.alerts.models import Alert
from wealthcrm.analytics.models import CustomerMonth
from wealthcrm.config import CadenceSettings
from wealthcrm.customers.models import Customer
from wealthcrm.customers.scope import Viewer, sees_whole_branch
from wealthcrm.errors import Forbidden, NotFound
from wealthcrm.interactions.models import Interaction
from wealthcrm.staff.models import Staff, Team
from wealthcrm.tasks.models import Task
from wealthcrm.vocab import AlertStatus, CustomerStatus, Role, Severity, StaffStatus, TaskStatus, Tier

#: roles that see the Team page
TEAM_ROLES = frozenset({Role.team_lead, Role.branch_manager})
#: staff roles that hold a book
BOOK_ROLES = (Role.rm, Role.team_lead)
CONTACT_WINDOW_DAYS = 30
SUNFLOWER_PLUS = (Tier.sunflower, Tier.diamond, Tier.private)


@dataclass(frozen=True, slots=True)
class TeamRef:
    team_id: str
    name: str

    def to_dict(self) -> dict[str, Any]:
        return {"team_id": self.team_id, "name": self.name}


@dataclass(frozen=True, slots=True)
class RmCoverage:
    staff_id: str
    name: str
    role: str
    status: str
    customers: int = 0
    sunflower_plus: int = 0
    aum: float = 0.0
    aum_at_risk: float = 0.0
    open_high_alerts: int = 0
    contacted_30d: int = 0
    cadence_customers: int = 0
    cadence_due: int = 0
    open_tasks: int = 0
    overdue_tasks: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class TeamCoverage:
    team: TeamRef
    teams: list[TeamRef]  # the teams the user may pick
    month: date | None
    on: date
    rms: list[RmCoverage]

    @property
    def totals(self) -> dict[str, float]:
        keys = [k for k in RmCoverage.__dataclass_fields__ if k not in ("staff_id", "name", "role", "status")]
        return {k: sum(getattr(r, k) for r in self.rms) for k in keys}

    def to_dict(self) -> dict[str, Any]:
        return {
            "team": self.team.to_dict(),
            "teams": [t.to_dict() for t in self.teams],
            "month": None if self.month is None else self.month.isoformat(),
            "on": self.on.isoformat(),
            "rms": [r.to_dict() for r in self.rms],
            "totals": self.totals,
        }


def teams_for(session: Session, *, user: Viewer) -> list[TeamRef]:
    """The teams ``user`` may manage: a team lead their own, a branch manager every team (by id)."""
    role = Role(user.role)
    if role not in TEAM_ROLES:
        raise Forbidden(f"the {role.value} role may not see teams")
    stmt = select(Team.team_id, Team.name).order_by(Team.team_id)
    if role is Role.team_lead:
        own = session.scalar(select(Staff.team_id).where(Staff.staff_id == user.staff_id))
        if own is None:
            return []
        stmt = stmt.where(Team.team_id == own)
    return [TeamRef(t, n) for t, n in session.execute(stmt)]


def pick_team(session: Session, *, user: Viewer, team_id: str | None) -> tuple[TeamRef, list[TeamRef]]:
    """The team asked for (default: the first the user may manage) and every team they may pick."""
    teams = teams_for(session, user=user)
    if not teams:
        raise NotFound("no team to show")
    if team_id is None:
        return teams[0], teams
    for team in teams:
        if team.team_id == team_id:
            return team, teams
    raise NotFound(f"no team {team_id!r}")


def team_members(session: Session, *, team_id: str) -> list[Staff]:
    """The team's staff who hold books (RMs and the lead), active first, then by id."""
    return list(
        session.scalars(
            select(Staff)
            .where(Staff.team_id == team_id, Staff.role.in_(BOOK_ROLES))
            .order_by(Staff.status != StaffStatus.active, Staff.staff_id)
        )
    )


def _cadence_days(tier: str | None, cadence: CadenceSettings) -> int | None:
    return {
        Tier.sunflower.value: cadence.sunflower_days,
        Tier.diamond.value: cadence.diamond_days,
        Tier.private.value: cadence.private_days,
    }.get(tier or "")


def _as_datetime(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def coverage(
    session: Session,
    *,
    user: Viewer,
    team_id: str | None,
    on: date,
    cadence: CadenceSettings,
) -> TeamCoverage:
    """The coverage of each book-holding member of the team (see the module's note for each number).

    A member who has left is listed only while customers remain assigned to them.
    """
    team, teams = pick_team(session, user=user, team_id=team_id)
    members = team_members(session, team_id=team.team_id)
    ids = [m.staff_id for m in members]
    month = session.scalar(select(func.max(CustomerMonth.month)))
    previous = session.scalar(select(func.max(CustomerMonth.month)).where(CustomerMonth.month < month))
    prev = aliased(CustomerMonth)
    last_contact = (
        select(func.max(Interaction.occurred_at))
        .where(Interaction.customer_id == Customer.customer_id)
        .correlate(Customer)
        .scalar_subquery()
    )
    high_alerts = (
        select(func.count(Alert.id))
        .where(
            Alert.customer_id == Customer.customer_id,
            Alert.status == AlertStatus.open,
            Alert.severity == Severity.high,
        )
        .correlate(Customer)
        .scalar_subquery()
    )
    rows = session.execute(
        select(
            Customer.rm_id,
            CustomerMonth.tier,
            CustomerMonth.aum,
            CustomerMonth.aum_at_risk,
            prev.aum.label("previous_aum"),
            last_contact.label("last_contact"),
            high_alerts.label("high_alerts"),
        )
        .select_from(Customer)
        .outerjoin(
            CustomerMonth,
            and_(CustomerMonth.customer_id == Customer.customer_id, CustomerMonth.month == month),
        )
        .outerjoin(prev, and_(prev.customer_id == Customer.customer_id, prev.month == previous))
        .where(Customer.rm_id.in_(ids), Customer.status == CustomerStatus.active)
    ).all()

    stats: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    window_start = datetime.combine(on - timedelta(days=CONTACT_WINDOW_DAYS - 1), time.min)
    for r in rows:
        s = stats[r.rm_id]
        tier = None if r.tier is None else str(r.tier)
        last = _as_datetime(r.last_contact)
        s["customers"] += 1
        s["sunflower_plus"] += tier in SUNFLOWER_PLUS
        s["aum"] += float(r.aum or 0.0)
        s["aum_at_risk"] += float(r.aum_at_risk or 0.0)
        s["open_high_alerts"] += int(r.high_alerts or 0)
        s["contacted_30d"] += last is not None and last >= window_start
        days = _cadence_days(tier, cadence)
        prospect = (
            tier == Tier.gold.value
            and float(r.aum or 0.0) >= cadence.gold_prospect_min_aum
            and r.previous_aum is not None
            and float(r.aum or 0.0) > float(r.previous_aum)
        )
        if prospect:
            days = cadence.gold_prospect_days
        if days is not None:
            s["cadence_customers"] += 1
            due = last is None or last < datetime.combine(on - timedelta(days=days - 1), time.min)
            s["cadence_due"] += due

    open_states = (TaskStatus.open, TaskStatus.snoozed)
    for assignee, open_count, overdue in session.execute(
        select(
            Task.assignee_id,
            func.count(),
            func.coalesce(func.sum(case((Task.due_on < on, 1), else_=0)), 0),
        )
        .where(Task.assignee_id.in_(ids), Task.status.in_(open_states))
        .group_by(Task.assignee_id)
    ):
        stats[assignee]["open_tasks"] = open_count
        stats[assignee]["overdue_tasks"] = overdue

    out = []
    for m in members:
        s = stats.get(m.staff_id, {})
        if m.status is StaffStatus.left and not s.get("customers"):
            continue
        out.append(
            RmCoverage(
                staff_id=m.staff_id,
                name=m.name,
                role=m.role.value,
                status=m.status.value,
                customers=int(s.get("customers", 0)),
                sunflower_plus=int(s.get("sunflower_plus", 0)),
                aum=round(float(s.get("aum", 0.0)), 2),
                aum_at_risk=round(float(s.get("aum_at_risk", 0.0)), 2),
                open_high_alerts=int(s.get("open_high_alerts", 0)),
                contacted_30d=int(s.get("contacted_30d", 0)),
                cadence_customers=int(s.get("cadence_customers", 0)),
                cadence_due=int(s.get("cadence_due", 0)),
                open_tasks=int(s.get("open_tasks", 0)),
                overdue_tasks=int(s.get("overdue_tasks", 0)),
            )
        )
    return TeamCoverage(team, teams, month, on, out)


def active_targets(session: Session, *, team_id: str | None) -> list[Staff]:
    """Active book-holding staff customers can be handed to: of one team, or of the branch (None)."""
    stmt = select(Staff).where(Staff.role.in_(BOOK_ROLES), Staff.status == StaffStatus.active)
    if team_id is not None:
        stmt = stmt.where(Staff.team_id == team_id)
    return list(session.scalars(stmt.order_by(Staff.staff_id)))


def rms_in_scope(session: Session, *, user: Viewer) -> list[Staff]:
    """The book-holding staff whose customers ``user`` sees: the team's for a lead, all for the branch
    roles, none for others (an RM sees one book and needs no choice)."""
    role = Role(user.role)
    stmt = select(Staff).where(Staff.role.in_(BOOK_ROLES)).order_by(Staff.staff_id)
    if role is Role.team_lead:
        own = session.scalar(select(Staff.team_id).where(Staff.staff_id == user.staff_id))
        if own is None:
            return []
        stmt = stmt.where(Staff.team_id == own)
    elif not sees_whole_branch(user):
        return []
    return list(session.scalars(stmt))
