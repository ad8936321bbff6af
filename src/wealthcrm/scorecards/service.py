"""RM scorecards: compute a month's figures and store them (:func:`compute`), and read them back within
the reader's scope (:func:`get`, :func:`history`).

- :func:`compute` — every RM and team lead who held a book in the month (employed during it), every
  team with such a member, and the branch; the month's stored rows are replaced, so computing a month
  again stores the same figures (idempotent) and earlier months stay as they were (history);
- :func:`get` — a branch manager or an auditor reads every row; a team lead the rows of the team's
  members, the team and the branch; an RM their own row, their team's and the branch's (the two
  benchmarks); other roles are :class:`~wealthcrm.errors.Forbidden`;
- :func:`history` — one unit's figures month by month, for charts.

The definitions of the figures are :data:`wealthcrm.scorecards.metrics.METRICS`; the arithmetic is
:mod:`wealthcrm.scorecards.rules`. Nothing here commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from wealthcrm.analytics.models import CustomerMonth
from wealthcrm.audit import service as audit
from wealthcrm.config import Settings
from wealthcrm.customers.scope import Viewer
from wealthcrm.db import utcnow
from wealthcrm.errors import Forbidden, Invalid, NotFound
from wealthcrm.scorecards import data as extract
from wealthcrm.scorecards.metrics import METRICS
from wealthcrm.scorecards.models import Scorecard, ScorecardLevel, ScorecardRun
from wealthcrm.scorecards.rules import PARTS, finish, month_no, unit_parts
from wealthcrm.staff.models import Staff
from wealthcrm.vocab import Role

#: staff roles that hold a book and get a scorecard
BOOK_ROLES = (Role.rm.value, Role.team_lead.value)
#: roles that read every scorecard
ALL_ROWS = frozenset({Role.branch_manager, Role.auditor})
LEVEL_ORDER = {ScorecardLevel.branch: 0, ScorecardLevel.team: 1, ScorecardLevel.rm: 2}


@dataclass(frozen=True, slots=True)
class ScorecardRow:
    level: ScorecardLevel
    unit_id: str
    name: str
    team_id: str | None
    figures: dict[str, float | None]

    def get(self, key: str) -> float | None:
        if key not in METRICS:
            raise KeyError(key)
        return self.figures.get(key)

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.level.value,
            "unit_id": self.unit_id,
            "name": self.name,
            "team_id": self.team_id,
            "figures": dict(self.figures),
        }


@dataclass(frozen=True, slots=True)
class Scorecards:
    """A month's scorecards (all of them after :func:`compute`; the reader's after :func:`get`)."""

    month: date
    window_months: int
    horizon_months: int
    computed_at: datetime
    rows: list[ScorecardRow] = field(default_factory=list)

    def of(self, level: ScorecardLevel, unit_id: str) -> ScorecardRow:
        for row in self.rows:
            if row.level is level and row.unit_id == unit_id:
                return row
        raise NotFound(f"no {level.value} scorecard for {unit_id!r} in {self.month:%Y-%m}")

    def rm(self, staff_id: str) -> ScorecardRow:
        return self.of(ScorecardLevel.rm, staff_id)

    def team(self, team_id: str) -> ScorecardRow:
        return self.of(ScorecardLevel.team, team_id)

    def branch(self, branch_id: str | None = None) -> ScorecardRow:
        branches = [r for r in self.rows if r.level is ScorecardLevel.branch]
        if branch_id is None and len(branches) == 1:
            return branches[0]
        return self.of(ScorecardLevel.branch, branch_id or "")

    @property
    def rms(self) -> list[ScorecardRow]:
        return [r for r in self.rows if r.level is ScorecardLevel.rm]

    @property
    def teams(self) -> list[ScorecardRow]:
        return [r for r in self.rows if r.level is ScorecardLevel.team]

    def to_dict(self) -> dict[str, Any]:
        return {
            "month": f"{self.month:%Y-%m}",
            "window_months": self.window_months,
            "horizon_months": self.horizon_months,
            "computed_at": self.computed_at.isoformat(timespec="seconds"),
            "rows": [r.to_dict() for r in self.rows],
        }


def first_day(month: date) -> date:
    return month.replace(day=1)


def _employed(staff: pd.DataFrame, month: date) -> pd.Series:
    m = int(month_no(pd.Series([pd.Timestamp(month)])).iloc[0])
    joined = month_no(staff["joined_on"])
    left = month_no(staff["left_on"])
    return ((joined <= m) & (left.isna() | (left >= m))).fillna(False).astype(bool)


def _row(
    level: ScorecardLevel, unit_id: str, name: str, team_id: str | None, parts: pd.Series
) -> ScorecardRow:
    return ScorecardRow(level, unit_id, name, team_id, finish({k: float(parts.get(k, 0.0)) for k in PARTS}))


def compute(session: Session, *, month: date, settings: Settings) -> Scorecards:
    """Compute and store the scorecards of ``month`` (any day of it); replaces the month's earlier rows.

    :class:`NotFound` when the nightly batch has stored no results for the month.
    """
    month = first_day(month)
    if not session.scalar(
        select(func.count()).select_from(CustomerMonth).where(CustomerMonth.month == month)
    ):
        raise NotFound(
            f"no nightly results for {month:%Y-%m}: run `wealthcrm nightly --month {month:%Y-%m}` first"
        )
    window = settings.scorecards.window_months
    horizon = settings.churn.horizon_months
    data = extract.load(
        session,
        month=month,
        window=window,
        min_class_amount=settings.recommendations.deepen_min_class_amount,
        time_zone=settings.sla.time_zone,
    )
    parts = unit_parts(data, cadence=settings.cadence, horizon=horizon)
    staff = data.staff
    members = staff[staff["role"].isin(BOOK_ROLES) & _employed(staff, month)].sort_values("staff_id")
    empty = pd.Series(0.0, index=list(PARTS))
    rms = parts.rms.reindex(members["staff_id"]).fillna(0.0)
    rows = [
        _row(ScorecardLevel.rm, str(sid), str(name), None if pd.isna(team) else str(team), rms.loc[sid])
        for sid, name, team in zip(members["staff_id"], members["name"], members["team_id"], strict=True)
    ]
    team_names = data.teams.set_index("team_id")["name"]
    by_team = rms.groupby(members.set_index("staff_id")["team_id"].reindex(rms.index)).sum()
    rows += [
        _row(
            ScorecardLevel.team, team_id, str(team_names.get(team_id, team_id)), team_id, by_team.loc[team_id]
        )
        for team_id in sorted(by_team.index)
    ]
    branch_names = data.branches.set_index("branch_id")["name"]
    branch_ids = sorted(set(parts.branches.index) | set(members["branch_id"]))
    branches = parts.branches.reindex(branch_ids).fillna(0.0)
    rows += [
        _row(
            ScorecardLevel.branch,
            b,
            str(branch_names.get(b, b)),
            None,
            branches.loc[b] if b in branches.index else empty,
        )
        for b in branch_ids
    ]
    rows.sort(key=lambda r: (LEVEL_ORDER[r.level], r.unit_id))
    now = utcnow()
    session.execute(delete(Scorecard).where(Scorecard.month == month))
    session.execute(delete(ScorecardRun).where(ScorecardRun.month == month))
    session.add(
        ScorecardRun(
            month=month, computed_at=now, window_months=window, horizon_months=horizon, units=len(rows)
        )
    )
    session.flush()
    session.add_all(
        Scorecard(
            month=month, level=r.level, unit_id=r.unit_id, name=r.name, team_id=r.team_id, figures=r.figures
        )
        for r in rows
    )
    session.flush()
    audit.record(
        session,
        actor=None,
        action="scorecard.compute",
        entity="scorecard",
        entity_id=f"{month:%Y-%m}",
        details={"month": f"{month:%Y-%m}", "units": len(rows), "window_months": window},
    )
    return Scorecards(month, window, horizon, now, rows)


# --- reading ------------------------------------------------------------------------------------------


def months(session: Session) -> list[date]:
    """The months with stored scorecards, newest first."""
    return list(session.scalars(select(ScorecardRun.month).order_by(ScorecardRun.month.desc())))


def _team_of(session: Session, staff_id: str | None) -> str | None:
    if staff_id is None:
        return None
    return session.scalar(select(Staff.team_id).where(Staff.staff_id == staff_id))


def readable(session: Session, *, user: Viewer) -> Any:
    """A condition on :class:`Scorecard` rows ``user`` may read (see the module docstring)."""
    from sqlalchemy import and_, or_, true

    role = Role(user.role)
    if role in ALL_ROWS:
        return true()
    if role not in (Role.rm, Role.team_lead) or user.staff_id is None:
        raise Forbidden(f"the {role.value} role may not read RM scorecards")
    team = _team_of(session, user.staff_id)
    branch = Scorecard.level == ScorecardLevel.branch
    own_team = and_(Scorecard.level == ScorecardLevel.team, Scorecard.unit_id == team)
    if role is Role.team_lead:
        members = and_(Scorecard.level == ScorecardLevel.rm, Scorecard.team_id == team)
        own = and_(Scorecard.level == ScorecardLevel.rm, Scorecard.unit_id == user.staff_id)
        return or_(branch, own_team, members, own)
    return or_(
        branch, own_team, and_(Scorecard.level == ScorecardLevel.rm, Scorecard.unit_id == user.staff_id)
    )


def _stored(session: Session, month: date, condition: Any) -> Scorecards:
    run = session.get(ScorecardRun, month)
    if run is None:
        raise NotFound(
            f"no scorecards for {month:%Y-%m}: run `wealthcrm scorecard compute --month {month:%Y-%m}`"
        )
    found = session.scalars(select(Scorecard).where(Scorecard.month == month, condition)).all()
    rows = [ScorecardRow(s.level, s.unit_id, s.name, s.team_id, dict(s.figures)) for s in found]
    rows.sort(key=lambda r: (LEVEL_ORDER[r.level], r.unit_id))
    return Scorecards(month, run.window_months, run.horizon_months, run.computed_at, rows)


def get(session: Session, *, month: date, user: Viewer) -> Scorecards:
    """The stored scorecards of ``month`` that ``user`` may read."""
    return _stored(session, first_day(month), readable(session, user=user))


def get_all(session: Session, *, month: date) -> Scorecards:
    """Every stored scorecard of ``month``, unscoped: for the command line and the monthly report."""
    from sqlalchemy import true

    return _stored(session, first_day(month), true())


def history(
    session: Session, *, user: Viewer, level: ScorecardLevel, unit_id: str, until: date, months: int = 12
) -> list[tuple[date, dict[str, float | None]]]:
    """One unit's stored figures for the ``months`` months up to ``until``, oldest first (months without
    a stored scorecard are left out); a unit outside the reader's scope is :class:`NotFound`."""
    if months < 1:
        raise Invalid("months must be at least 1")
    end = first_day(until)
    start = extract.add_months(end, -(months - 1))
    unit = (Scorecard.level == level, Scorecard.unit_id == unit_id, readable(session, user=user))
    if not session.scalar(select(func.count()).select_from(Scorecard).where(*unit)):
        raise NotFound(f"no {level.value} scorecard for {unit_id!r}")
    found = session.scalars(
        select(Scorecard).where(*unit, Scorecard.month.between(start, end)).order_by(Scorecard.month)
    ).all()
    return [(s.month, dict(s.figures)) for s in found]
