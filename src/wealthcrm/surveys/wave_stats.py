"""Survey waves as their readers see them: the list and one wave's response rate (overall and by RM)
and NPS so far, counted over the invitations in the reader's scope
(:func:`wealthcrm.surveys.distribution.visible_invitations`). Nothing here writes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wealthcrm.customers.models import Customer
from wealthcrm.customers.scope import Viewer
from wealthcrm.staff.models import Staff
from wealthcrm.surveys.distribution import (
    TOKEN_ROLES,
    WAVE_ROLES,
    Segment,
    get_wave,
    require_viewer,
    visible_invitations,
    wave_state,
)
from wealthcrm.surveys.models import SurveyAnswer, SurveyInvitation, SurveyWave, WaveStatus
from wealthcrm.surveys.questionnaire import Questionnaire
from wealthcrm.users.models import User
from wealthcrm.vocab import Role, Stage, Tier


@dataclass(frozen=True, slots=True)
class WaveRow:
    id: int
    name: str
    questionnaire_id: str
    questionnaire_version: int
    opens_on: date
    closes_on: date
    state: str
    created_at: datetime
    created_by: str | None
    invited: int  # in the reader's scope
    issued: int
    answered: int

    @property
    def response_rate(self) -> float | None:
        return self.answered / self.invited if self.invited else None

    def to_dict(self) -> dict[str, Any]:
        out = {k: v.isoformat() if isinstance(v, date | datetime) else v for k, v in asdict(self).items()}
        out["response_rate"] = self.response_rate
        return out


@dataclass(frozen=True, slots=True)
class WavePage:
    total: int
    rows: list[WaveRow]


def _counts(user: Viewer) -> Any:
    return (
        select(
            SurveyInvitation.wave_id,
            func.count().label("invited"),
            func.count(SurveyInvitation.issued_at).label("issued"),
            func.count(SurveyInvitation.used_at).label("answered"),
        )
        .where(visible_invitations(user))
        .group_by(SurveyInvitation.wave_id)
        .subquery()
    )


def _wave_rows(session: Session, stmt: Any, today: date) -> list[WaveRow]:
    return [
        WaveRow(
            w.id,
            w.name,
            w.questionnaire_id,
            w.questionnaire_version,
            w.opens_on,
            w.closes_on,
            wave_state(w, today),
            w.created_at,
            username,
            int(invited),
            int(issued),
            int(answered),
        )
        for w, username, invited, issued, answered in session.execute(stmt)
    ]


def _select_waves(user: Viewer) -> Any:
    counts = _counts(user)
    return (
        select(SurveyWave, User.username, counts.c.invited, counts.c.issued, counts.c.answered)
        .join(counts, counts.c.wave_id == SurveyWave.id)
        .outerjoin(User, User.id == SurveyWave.created_by)
    )


def list_waves(session: Session, *, user: Viewer, today: date, limit: int = 50, offset: int = 0) -> WavePage:
    """The waves with invitations in the user's scope, newest first, with their response counts."""
    require_viewer(user)
    counts = _counts(user)
    total = session.scalar(select(func.count()).select_from(counts)) or 0
    stmt = _select_waves(user).order_by(SurveyWave.created_at.desc(), SurveyWave.id.desc())
    return WavePage(int(total), _wave_rows(session, stmt.limit(limit).offset(offset), today))


@dataclass(frozen=True, slots=True)
class RmRate:
    rm_id: str | None
    rm_name: str | None
    invited: int
    answered: int

    @property
    def response_rate(self) -> float | None:
        return self.answered / self.invited if self.invited else None


@dataclass(frozen=True, slots=True)
class WaveDetail:
    row: WaveRow
    questionnaire: Questionnaire
    segment: Segment
    segment_month: date | None
    status: str
    closed_at: datetime | None
    may_run: bool
    may_issue: bool
    may_close: bool
    by_rm: list[RmRate] = field(default_factory=list)
    #: the wave's Net Promoter answers in scope: {"n", "promoters", "passives", "detractors", "nps"}
    nps: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.row.to_dict(),
            "status": self.status,
            "closed_at": None if self.closed_at is None else self.closed_at.isoformat(),
            "segment": self.segment.to_dict(),
            "segment_month": None if self.segment_month is None else self.segment_month.isoformat(),
            "by_rm": [{**asdict(r), "response_rate": r.response_rate} for r in self.by_rm],
            "nps": self.nps,
        }


def nps_summary(scores: Sequence[float], detractor_max: int = 6) -> dict[str, Any] | None:
    """Promoters (9–10), passives, detractors (≤ ``detractor_max``) and NPS in points; None if no answers."""
    if not scores:
        return None
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= detractor_max)
    n = len(scores)
    return {
        "n": n,
        "promoters": promoters,
        "passives": n - promoters - detractors,
        "detractors": detractors,
        "nps": round(100 * (promoters - detractors) / n, 1),
    }


def wave_detail(
    session: Session, *, user: Viewer, wave_id: int, today: date, detractor_max: int = 6
) -> WaveDetail:
    """One wave: its segment, response rate in the user's scope, by RM, and its NPS so far."""
    wave = get_wave(session, user=user, wave_id=wave_id)
    row = _wave_rows(session, _select_waves(user).where(SurveyWave.id == wave_id), today)[0]
    q = Questionnaire.model_validate(wave.questionnaire)
    by_rm = [
        RmRate(rm_id, rm_name, int(invited), int(answered))
        for rm_id, rm_name, invited, answered in session.execute(
            select(Customer.rm_id, Staff.name, func.count(), func.count(SurveyInvitation.used_at))
            .select_from(SurveyInvitation)
            .join(Customer, Customer.customer_id == SurveyInvitation.customer_id)
            .outerjoin(Staff, Staff.staff_id == Customer.rm_id)
            .where(SurveyInvitation.wave_id == wave_id, visible_invitations(user))
            .group_by(Customer.rm_id, Staff.name)
            .order_by(Customer.rm_id)
        )
    ]
    nps = None
    if q.outcomes.nps is not None:
        answered = select(SurveyInvitation.response_id).where(
            SurveyInvitation.wave_id == wave_id,
            SurveyInvitation.response_id.is_not(None),
            visible_invitations(user),
        )
        scores = session.scalars(
            select(SurveyAnswer.score).where(
                SurveyAnswer.response_id.in_(answered),
                SurveyAnswer.item_id == q.outcomes.nps,
                SurveyAnswer.score.is_not(None),
            )
        ).all()
        nps = nps_summary([float(s) for s in scores if s is not None], detractor_max)
    run = Role(user.role) in WAVE_ROLES
    return WaveDetail(
        row=row,
        questionnaire=q,
        segment=Segment(
            tuple(Tier(t) for t in wave.tiers or []),
            tuple(Stage(s) for s in wave.stages or []),
            wave.rm_id,
            wave.sample_size,
            wave.sample_seed or 0,
        ),
        segment_month=wave.segment_month,
        status=wave.status.value,
        closed_at=wave.closed_at,
        may_run=run,
        may_issue=Role(user.role) in TOKEN_ROLES,
        may_close=run
        and wave.status is WaveStatus.open
        and (Role(user.role) is Role.branch_manager or wave.created_by == getattr(user, "id", None)),
        by_rm=by_rm,
        nps=nps,
    )
